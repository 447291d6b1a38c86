app_name = "personal"

urlpatterns: list = []
