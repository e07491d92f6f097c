"""Indicator values indexed by (code, year, quarter) only for the indicators the pages read by period
(`PERIOD_INDEXED`): the full index cost a national recompute more than every other write of them."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('supervision', '0013_threshold_source_en'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='indicatorvalue',
            name='supervision_code_23c5fb_idx',
        ),
        migrations.AddIndex(
            model_name='indicatorvalue',
            index=models.Index(condition=models.Q(('code__in', ('leverage', 'average_fee_rate', 'compensation_rate', 'single_client_concentration', 'support_share_amount', 'bank_risk_share'))), fields=['code', 'year', 'quarter'], name='indicator_value_page_period'),
        ),
    ]
