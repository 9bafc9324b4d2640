"""When the runner may use a volume's folder on the host directly, and what it packs from one."""

from __future__ import annotations

import os
import tarfile
from pathlib import Path

import pytest

from runner.docker.host_folders import TooLarge, mounted_folder, owned_folder, pack_folder, writable_folder


def test_a_fresh_volume_folder_of_this_user_is_used_and_the_workspace_path_made(tmp_path: Path) -> None:
    folder = writable_folder({"Driver": "local", "Mountpoint": str(tmp_path)}, "src/app")
    assert folder == tmp_path / "src" / "app" and folder.is_dir()


def test_a_volume_elsewhere_or_of_another_driver_falls_back_to_the_archive(tmp_path: Path) -> None:
    assert writable_folder({"Driver": "local", "Mountpoint": str(tmp_path / "not-here")}, "src") is None
    assert writable_folder({"Driver": "nfs", "Mountpoint": str(tmp_path)}, "src") is None
    assert writable_folder({"Driver": "local"}, "src") is None


@pytest.mark.skipif(os.geteuid() != 0, reason="changing a folder's owner needs root")
def test_a_folder_owned_by_another_user_is_not_written(tmp_path: Path) -> None:
    os.chown(tmp_path, 100000, 100000)  # as with user namespace remapping: the container's root is not ours
    assert owned_folder(str(tmp_path)) is None


def test_only_a_volume_mounted_exactly_at_the_path_is_read_directly(tmp_path: Path) -> None:
    inspected = {
        "Mounts": [
            {"Type": "volume", "Driver": "local", "Destination": "/hangar/reports", "Source": str(tmp_path)},
            {"Type": "bind", "Destination": "/src", "Source": str(tmp_path)},
        ]
    }
    assert mounted_folder(inspected, "/hangar/reports/") == tmp_path
    assert mounted_folder(inspected, "/hangar/reports/sub") is None
    assert mounted_folder(inspected, "/src") is None, "a bind mount is the step's own folder: left to Docker"


def test_a_packed_folder_is_named_as_docker_names_an_archive_and_keeps_links(tmp_path: Path) -> None:
    (tmp_path / "junit.xml").write_text("<testsuite/>")
    (tmp_path / "link").symlink_to("/etc/passwd")
    with pack_folder(tmp_path, "reports", 1024) as packed, tarfile.open(fileobj=packed) as tar:
        members = {member.name: member for member in tar}
    assert set(members) == {"reports", "reports/junit.xml", "reports/link"}
    assert members["reports/link"].issym(), "a link is kept as a link, never followed"


def test_a_folder_over_the_limit_is_refused(tmp_path: Path) -> None:
    (tmp_path / "big.xml").write_bytes(b"x" * 2048)
    with pytest.raises(TooLarge):
        pack_folder(tmp_path, "reports", 1024)
