# Creates, once, what a Bootfarm test lab needs inside LAVA: an admin user
# with a known API token, a worker, the qemu device type with health checks
# disabled and one QEMU device. Run by scripts/lava-lab through
# `lava-server manage shell -c`; parameters come from the environment.
# Prints "worker-token <token>" so the script can start lava-worker.
import os

from django.contrib.auth.models import User
from lava_scheduler_app.models import Device, DeviceType, Worker
from linaro_django_xmlrpc.models import AuthToken

admin_name = os.environ["BF_LAVA_ADMIN"]
admin_password = os.environ["BF_LAVA_ADMIN_PASSWORD"]
api_token = os.environ["BF_LAVA_TOKEN"]
worker_name = os.environ["BF_LAVA_WORKER"]
device_names = os.environ["BF_LAVA_DEVICES"].split()

admin, created = User.objects.get_or_create(username=admin_name)
if created:
    admin.is_staff = True
    admin.is_superuser = True
    admin.set_password(admin_password)
    admin.save()
if not AuthToken.objects.filter(user=admin, secret=api_token).exists():
    AuthToken.objects.create(user=admin, secret=api_token, description="bootfarm")

worker, _ = Worker.objects.get_or_create(hostname=worker_name, defaults={"description": "bootfarm"})
if worker.health != Worker.HEALTH_ACTIVE:
    worker.health = Worker.HEALTH_ACTIVE
    worker.save()

dt, _ = DeviceType.objects.get_or_create(name="qemu")
if not dt.disable_health_check or not dt.display:
    dt.disable_health_check = True
    dt.display = True
    dt.save()

for name in device_names:
    device, created = Device.objects.get_or_create(
        hostname=name,
        defaults={"device_type": dt, "worker_host": worker, "state": Device.STATE_IDLE, "health": Device.HEALTH_GOOD},
    )
    if not created and (device.worker_host_id != worker.pk or device.health not in (Device.HEALTH_GOOD, Device.HEALTH_UNKNOWN)):
        device.worker_host = worker
        device.health = Device.HEALTH_GOOD
        device.save()

print("worker-token", worker.token)
