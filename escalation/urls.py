"""Pages and API routes of the escalation app, with their full paths (included at the root)."""

from django.urls import include, path

from escalation import feeds, panel, views

app_name = "escalation"

urlpatterns = [
    path("", include("escalation.api.urls")),
    path("escalation/ack/<str:token>/", views.acknowledge, name="acknowledge"),
    path("incidents/<str:number>/paging/", panel.incident_panel, name="incident-panel"),
    path("oncall/", views.oncall, name="oncall"),
    path("oncall/schedules/new/", views.schedule_edit, name="schedule-new"),
    path("oncall/schedules/<int:pk>/", views.schedule_detail, name="schedule"),
    path("oncall/schedules/<int:pk>/edit/", views.schedule_edit, name="schedule-edit"),
    path("oncall/schedules/<int:pk>/layers/new/", views.layer_edit, name="layer-new"),
    path("oncall/schedules/<int:pk>/layers/<int:layer_pk>/", views.layer_edit, name="layer"),
    path(
        "oncall/schedules/<int:pk>/layers/<int:layer_pk>/delete/",
        views.layer_delete,
        name="layer-delete",
    ),
    path("oncall/schedules/<int:pk>/overrides/", views.override_add, name="override-add"),
    path(
        "oncall/schedules/<int:pk>/overrides/<int:override_pk>/delete/",
        views.override_delete,
        name="override-delete",
    ),
    path(
        "oncall/schedules/<int:pk>/rotate-token/",
        views.schedule_rotate_token,
        name="schedule-rotate-token",
    ),
    path("oncall/feeds/schedule/<str:token>.ics", feeds.schedule_feed, name="schedule-feed"),
    path("oncall/feeds/user/<str:token>.ics", feeds.user_feed, name="user-feed"),
    path("policies/", views.policy_list, name="policies"),
    path("policies/new/", views.policy_edit, name="policy-new"),
    path("policies/services/<slug:slug>/", views.service_oncall, name="service-oncall"),
    path("policies/<int:pk>/", views.policy_edit, name="policy"),
    path("policies/<int:pk>/levels/new/", views.level_edit, name="level-new"),
    path("policies/<int:pk>/levels/<int:level_pk>/", views.level_edit, name="level"),
    path(
        "policies/<int:pk>/levels/<int:level_pk>/delete/",
        views.level_delete,
        name="level-delete",
    ),
    path("me/notifications/", views.my_notifications, name="my-notifications"),
    path(
        "me/notifications/methods/<int:method_pk>/delete/",
        views.contact_method_delete,
        name="contact-method-delete",
    ),
    path(
        "me/notifications/rules/<int:rule_pk>/delete/",
        views.notification_rule_delete,
        name="notification-rule-delete",
    ),
    path("me/notifications/rotate-feed/", views.my_feed_rotate, name="my-feed-rotate"),
]
