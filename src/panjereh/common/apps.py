from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "panjereh.common"
    label = "common"
    verbose_name = "Common"
