from decimal import Decimal

import factory

from accounts.models import User
from institutions.demo import demo_credit_code
from institutions.models import Institution

TEST_PASSWORD = "Test@pass2026"


class InstitutionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Institution

    name = factory.Sequence(lambda n: f"测试{n}号融资担保有限公司")
    credit_code = factory.LazyAttributeSequence(lambda o, n: demo_credit_code(o.region_id, 9_000_000 + n))
    region_id = "510104"
    level = "county"
    registered_capital = Decimal("30000.00")
    paid_in_capital = Decimal("30000.00")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    last_name = "测"
    first_name = factory.Sequence(lambda n: f"试{n}")

    @factory.post_generation
    def password(user, create, extracted, **kwargs):
        user.set_password(extracted or TEST_PASSWORD)
        if create:
            user.save(update_fields=["password"])
