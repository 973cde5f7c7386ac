from pathlib import Path

import pytest

from saasctl import backend
from saasctl.project import Project


@pytest.fixture
def local_env(project: Path):  # type: ignore[no-untyped-def]
    return Project(project).load_env("local")


@pytest.mark.parametrize(
    ("version", "expected_keys", "absent"),
    [
        (
            (1, 0, 3),
            {"endpoint", "dynamodb_endpoint", "force_path_style", "dynamodb_table"},
            {"endpoints", "use_path_style", "use_lockfile", "skip_requesting_account_id"},
        ),
        (
            (1, 5, 7),
            {"endpoint", "force_path_style", "dynamodb_table"},
            {"endpoints", "use_lockfile"},
        ),
        (
            (1, 6, 0),
            {"endpoints", "use_path_style", "skip_requesting_account_id", "dynamodb_table"},
            {"endpoint", "force_path_style", "use_lockfile"},
        ),
        ((1, 9, 8), {"endpoints", "dynamodb_table"}, {"use_lockfile"}),
        (
            (1, 10, 0),
            {"endpoints", "use_path_style", "use_lockfile"},
            {"dynamodb_table", "endpoint"},
        ),
        ((1, 11, 4), {"endpoints", "use_lockfile"}, {"dynamodb_table", "force_path_style"}),
    ],
)
def test_backend_arguments_per_version(local_env, version, expected_keys, absent) -> None:  # type: ignore[no-untyped-def]
    settings = backend.runtime_backend(local_env, version, "http://127.0.0.1:9999")
    assert expected_keys <= set(settings)
    assert not (absent & set(settings))
    assert settings["skip_credentials_validation"] is True


def test_endpoints_block_names_services(local_env) -> None:  # type: ignore[no-untyped-def]
    settings = backend.runtime_backend(local_env, (1, 11, 4), "http://127.0.0.1:9999")
    assert settings["endpoints"]["s3"] == "http://127.0.0.1:9999"
    assert settings["endpoints"]["dynamodb"] == "http://127.0.0.1:9999"


def test_no_endpoint_no_emulator_flags(project: Path) -> None:
    env = Project(project).load_env("golden")  # emulator: false
    settings = backend.runtime_backend(env, (1, 11, 4), None)
    assert settings == {"use_lockfile": True}
    static = backend.static_backend(env, "golden/shared/terraform.tfstate")
    assert static == {
        "bucket": "golden-tfstate",
        "key": "golden/shared/terraform.tfstate",
        "region": "eu-central-1",
        "encrypt": True,
    }


def test_remote_state_config_reads_shared_key_without_locks(local_env) -> None:  # type: ignore[no-untyped-def]
    config = backend.remote_state_config(
        local_env, local_env.shared_state_key, (1, 0, 3), "http://e:1"
    )
    assert config["key"] == "local/shared/terraform.tfstate"
    assert "dynamodb_table" not in config and "use_lockfile" not in config


def test_hcl_values_cannot_interpolate() -> None:
    assert backend.hcl_value('a"b') == '"a\\"b"'
    assert backend.hcl_value('${file("/etc/passwd")}') == '"$${file(\\"/etc/passwd\\")}"'
    assert backend.hcl_value("%{ if x }") == '"%%{ if x }"'
    assert backend.hcl_value("line\nbreak") == '"line\\nbreak"'
    assert backend.hcl_value(True) == "true"
    assert backend.hcl_value({"b": 1, "a": "x"}) == '{ a = "x", b = 1 }'
    text = backend.tfbackend_text({"use_lockfile": True, "bucket": "b"})
    assert text == 'bucket = "b"\nuse_lockfile = true\n'


def test_provider_mirror_config(tmp_path: Path) -> None:
    config, held = backend.prepare_providers(tmp_path / "cache")
    text = config.read_text()
    assert "filesystem_mirror" in text and "direct" not in text  # never the network
    # The dev extra installs the null provider; the mirror must offer it.
    assert held == ["registry.terraform.io/hashicorp/null"]
    assert '"registry.terraform.io/hashicorp/null"' in text
    assert any((tmp_path / "cache" / "providers").rglob("terraform-provider-null_*"))
    # Second call changes nothing (prepared once).
    before = config.stat().st_mtime_ns
    backend.prepare_providers(tmp_path / "cache")
    assert config.stat().st_mtime_ns == before


def test_only_offline_shells_are_offered_the_newer_null(tmp_path: Path) -> None:
    """saasctl's own workspaces keep the Go null 2.1.2 (their stand-ins' lock files
    name it); `saasctl offline env` shells may also pick the offline null 3.x."""
    if not backend.offline_aws_available(Project(Path(__file__).parents[2]).cache):
        pytest.skip("the offline AWS provider's schema is not installed")
    cache = tmp_path / "cache"
    backend.share_cache(Project(Path(__file__).parents[2]).cache, cache)
    internal, _ = backend.prepare_providers(cache, offline_aws=True)
    shell, _ = backend.prepare_providers(cache, offline_aws=True, for_shell=True)
    assert internal != shell
    offline_mirror = str(cache.resolve() / "offline-aws" / "mirror")

    def offered(config: Path) -> str:  # the offline mirror's include list
        return config.read_text().split(offline_mirror, 1)[1].split("include", 1)[1]

    assert (
        "hashicorp/random" in offered(internal)
        and "hashicorp/null" not in offered(internal).split("}")[0]
    )
    assert "hashicorp/null" in offered(shell).split("}")[0]
