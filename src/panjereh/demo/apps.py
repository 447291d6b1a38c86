from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "panjereh.demo"
    label = "demo"
    verbose_name = "Demo"
