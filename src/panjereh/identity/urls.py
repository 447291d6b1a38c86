from django.urls import path

from . import business_views, passkey_views, views

app_name = "identity"
urlpatterns = [
    path("register/", views.register, name="register"),
    path("register/verify/", views.register_verify, name="register_verify"),
    path("register/resend/", views.register_resend, name="register_resend"),
    path("register/confirm/", views.register_confirm, name="register_confirm"),
    path("login/", views.login_view, name="login"),
    path("login/verify/", views.login_verify, name="login_verify"),
    path("login/authenticator/", views.login_totp, name="login_totp"),
    path("logout/", views.logout_view, name="logout"),
    path("", views.account, name="account"),
    path("step-up/", views.step_up, name="step_up"),
    path("step-up/photo/", views.photo, name="photo"),
    path("step-up/authenticator/", views.totp_enrol, name="totp"),
    path("passkeys/", passkey_views.passkey_list, name="passkeys"),
    path("passkeys/<int:pk>/rename/", passkey_views.passkey_rename, name="passkey_rename"),
    path("passkeys/<int:pk>/remove/", passkey_views.passkey_revoke, name="passkey_revoke"),
    path("passkeys/add/options/", passkey_views.register_options, name="passkey_register_options"),
    path("passkeys/add/verify/", passkey_views.register_verify, name="passkey_register_verify"),
    path("passkeys/use/options/", passkey_views.sign_in_options, name="passkey_sign_in_options"),
    path("passkeys/use/verify/", passkey_views.sign_in_verify, name="passkey_sign_in_verify"),
    path("activity/", views.audit_trail, name="audit"),
    path("helpers/", views.delegations, name="delegations"),
    path("helpers/<int:pk>/accept/", views.delegation_accept, name="delegation_accept"),
    path("helpers/<int:pk>/revoke/", views.delegation_revoke, name="delegation_revoke"),
    path("helpers/<int:pk>/act/", views.delegation_act, name="delegation_act"),
    path("helpers/stop/", views.delegation_stop, name="delegation_stop"),
    path("companies/", business_views.companies, name="companies"),
    path("companies/switch/", business_views.switch, name="switch"),
    path(
        "companies/authorisations/<int:pk>/revoke/",
        business_views.revoke,
        name="company_delegation_revoke",
    ),
    path("companies/<str:national_id>/", business_views.company, name="company"),
]
