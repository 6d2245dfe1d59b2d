from django.contrib.auth import views as auth_views
from django.urls import path, register_converter

from incidents import views


class IncidentNumberConverter:
    """`INC-42` (any case), handed to views as written."""

    regex = "[Ii][Nn][Cc]-[0-9]{1,18}"

    def to_python(self, value: str) -> str:
        return value.upper()

    def to_url(self, value: str) -> str:
        return str(value)


register_converter(IncidentNumberConverter, "number")

app_name = "incidents"

urlpatterns = [
    path("", views.home, name="home"),
    path("home/live/", views.home_live, name="home-live"),
    path("incidents/", views.incident_list, name="list"),
    path("incidents/new/", views.incident_new, name="new"),
    path("incidents/priority-preview/", views.priority_preview, name="priority-preview"),
    path("incidents/<number:number>/", views.incident_detail, name="detail"),
    path("incidents/<number:number>/timeline/", views.incident_timeline, name="timeline"),
    path(
        "incidents/<number:number>/do/<slug:action>/",
        views.incident_transition,
        name="transition",
    ),
    path("incidents/<number:number>/assign/", views.incident_assign, name="assign"),
    path("incidents/<number:number>/classify/", views.incident_reclassify, name="reclassify"),
    path("incidents/<number:number>/roles/", views.role_add, name="role-add"),
    path(
        "incidents/<number:number>/roles/<int:role_id>/remove/",
        views.role_remove,
        name="role-remove",
    ),
    path("incidents/<number:number>/tasks/", views.task_add, name="task-add"),
    path(
        "incidents/<number:number>/tasks/<int:task_id>/toggle/",
        views.task_toggle,
        name="task-toggle",
    ),
    path("incidents/<number:number>/runbook/", views.runbook_apply, name="runbook-apply"),
    path("incidents/<number:number>/updates/", views.update_post, name="update-post"),
    path(
        "incidents/<number:number>/attachments/",
        views.attachment_upload,
        name="attachment-upload",
    ),
    path(
        "incidents/<number:number>/attachments/<int:attachment_id>/",
        views.attachment_download,
        name="attachment-download",
    ),
]

auth_urlpatterns = [
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/profile/", views.profile, name="profile"),
    # Django's own views; the templates under templates/registration/ dress them.
    path(
        "accounts/password/change/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path(
        "accounts/password/reset/",
        auth_views.PasswordResetView.as_view(),
        name="password_reset",
    ),
    path(
        "accounts/password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/password/reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]
