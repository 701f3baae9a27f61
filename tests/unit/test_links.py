"""Console links in the target's region and the paste-able retry command."""

from __future__ import annotations

import ast
import json
import shlex

import pytest

from shipper_alert.links import export_link, region_from_endpoint, retry_commands, shipper_link


@pytest.mark.parametrize(
    ("host", "region"),
    [
        ("cn-hangzhou.log.aliyuncs.com", "cn-hangzhou"),
        ("cn-hangzhou-intranet.log.aliyuncs.com", "cn-hangzhou"),
        ("ap-southeast-1-share.log.aliyuncs.com", "ap-southeast-1"),
        ("cn-hangzhou-finance-1.log.aliyuncs.com", "cn-hangzhou-finance-1"),
        ("127.0.0.1", None),
        ("sls.example.com", None),
    ],
)
def test_region_from_endpoint(host, region):
    assert region_from_endpoint(host) == region


def test_shipper_link_opens_the_shipper_in_its_region_with_a_confirmed_fallback():
    link = shipper_link("cn-shanghai", "proj-a", "nginx", "oss-archive")
    assert link.url == (
        "https://sls.console.aliyun.com/lognext/project/proj-a/logstore/nginx/shipper/"
        "oss-archive?slsRegion=cn-shanghai"
    )
    assert link.fallback == (
        "https://sls.console.aliyun.com/lognext/project/proj-a/logsearch/nginx"
        "?slsRegion=cn-shanghai"
    )


def test_export_link_and_unknown_region():
    link = export_link(None, "proj-a", "export-oss-1", "nginx")
    assert link.url == "https://sls.console.aliyun.com/lognext/project/proj-a/export/export-oss-1"
    assert link.fallback.endswith("/lognext/project/proj-a/logsearch/nginx")


def test_link_segments_are_url_encoded():
    link = shipper_link("cn-beijing", "proj-a", "a/b", "x?y=1")
    assert "/logstore/a%2Fb/shipper/x%3Fy%3D1?slsRegion=cn-beijing" in link.url


def test_bad_region_is_named():
    with pytest.raises(ValueError, match="region 'cn hangzhou' is not an Alibaba Cloud region id"):
        shipper_link("cn hangzhou", "p", "l", "s")


def test_retry_command_is_the_documented_cli_with_ten_ids_a_line():
    ids = [f"{n:032x}" for n in range(12)]
    lines = retry_commands("cn-hangzhou", "proj-a", "nginx", "oss-archive", ids)
    assert len(lines) == 2
    assert lines[1] == (
        "aliyunlog log retry_shipper_tasks --project_name=proj-a --logstore_name=nginx "
        "--shipper_name=oss-archive --region-endpoint=cn-hangzhou.log.aliyuncs.com "
        '--task_list=\'["0000000000000000000000000000000a", "0000000000000000000000000000000b"]\''
    )
    for line, batch in zip(lines, (ids[:10], ids[10:]), strict=True):
        argv = shlex.split(line)
        task_list = argv[-1].removeprefix("--task_list=")
        assert json.loads(task_list) == batch  # a JSON array
        assert ast.literal_eval(task_list) == batch  # and a Python list literal


def test_retry_command_quotes_hostile_ids_and_names():
    (line,) = retry_commands(None, "proj-a", "nginx", "s", ["x'; rm -rf ~; '", "$(id)"])
    argv = shlex.split(line)
    assert argv[:3] == ["aliyunlog", "log", "retry_shipper_tasks"]
    assert json.loads(argv[-1].removeprefix("--task_list=")) == ["x'; rm -rf ~; '", "$(id)"]
    assert not any(a.startswith("--region-endpoint") for a in argv)


def test_no_ids_no_command():
    assert retry_commands("cn-hangzhou", "p", "l", "s", []) == ()
