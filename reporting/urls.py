from . import indicator_urls

app_name = "reporting"

urlpatterns = [*indicator_urls.urlpatterns]
