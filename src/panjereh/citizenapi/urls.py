app_name = "citizenapi"

urlpatterns: list = []
