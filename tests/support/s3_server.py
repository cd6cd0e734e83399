"""A local S3-compatible server for tests: moto's standalone server (``moto[server]`` from PyPI), as a
subprocess on a free 127.0.0.1 port, with request authentication switched on.

Why moto: a MinIO or Ceph RGW binary cannot be fetched on these machines (only PyPI, Debian and npm
are reachable; Debian's radosgw needs a whole RADOS cluster), and of what the registries offer moto
is the most faithful to AWS S3: it is built from AWS's own service models, checks each request's
SigV4 signature against IAM access keys (``SignatureDoesNotMatch``, ``InvalidAccessKeyId``), and
answers conditional writes (``If-None-Match: *`` → ``412 PreconditionFailed``), continuation-token
listings and batch deletes as S3 does (its one gap there, a check-then-write PutObject, is closed
by tests/support/moto_s3_main.py). The first three requests are let through unauthenticated
(``INITIAL_NO_AUTH_ACTION_COUNT``): they create the IAM user, its policy and its access key, and
everything after that must be signed with that key.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import boto3
from botocore.config import Config

from server.photos.s3blobs import S3Location
from tests.support.live_server import REPO, free_port

REGION = "ap-east-1"  # any name in the aws partition (moto keeps IAM keys per partition: not cn-*)


class LocalS3:
    def __init__(self, log_path: Path) -> None:
        self.port = free_port()
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None
        self.access_key = ""
        self.secret_key = ""

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LocalS3:
        env = dict(os.environ, INITIAL_NO_AUTH_ACTION_COUNT="3")
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "tests.support.moto_s3_main", "-H", "127.0.0.1", "-p", str(self.port)],
                env=env,
                cwd=REPO,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            log.close()
        iam = boto3.client(
            "iam", endpoint_url=self.endpoint, region_name="us-east-1",
            aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap",
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                iam.create_user(UserName="wuye")
                break
            except Exception:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"moto server did not start; see {self.log_path}") from None
                time.sleep(0.1)
        policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
        iam.put_user_policy(UserName="wuye", PolicyName="photos", PolicyDocument=json.dumps(policy))
        key = iam.create_access_key(UserName="wuye")["AccessKey"]
        self.access_key, self.secret_key = key["AccessKeyId"], key["SecretAccessKey"]
        return self

    def location(self, bucket: str, prefix: str = "") -> S3Location:
        return S3Location(
            bucket=bucket, prefix=prefix, endpoint_url=self.endpoint, region=REGION,
            access_key=self.access_key, secret_key=self.secret_key, path_style=True,
        )

    def env(self, bucket: str, prefix: str = "") -> dict[str, str]:
        """The ``WUYE_*`` variables that point a server process at ``bucket``/``prefix``."""
        return {
            "WUYE_BLOBS": f"s3://{bucket}/{prefix}".rstrip("/"),
            "WUYE_S3_ENDPOINT": self.endpoint,
            "WUYE_S3_REGION": REGION,
            "WUYE_S3_ACCESS_KEY": self.access_key,
            "WUYE_S3_SECRET_KEY": self.secret_key,
            "WUYE_S3_PATH_STYLE": "1",
        }

    def client(self):
        return boto3.client(
            "s3", endpoint_url=self.endpoint, region_name=REGION,
            aws_access_key_id=self.access_key, aws_secret_access_key=self.secret_key,
            config=Config(s3={"addressing_style": "path"}),
        )

    def new_bucket(self) -> str:
        name = f"wuye-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
        return name

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self.proc = None
