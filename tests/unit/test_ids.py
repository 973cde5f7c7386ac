import pytest

from saasctl.errors import UserError
from saasctl.ids import AWS_NAME_MAX, aws_name, validate_tenant_id


@pytest.mark.parametrize("good", ["acme", "a1b", "acme-corp", "x" * 20, "tenant-42-eu"])
def test_valid_ids(good: str) -> None:
    assert validate_tenant_id(good) == good


@pytest.mark.parametrize(
    ("bad", "fragment"),
    [
        ("", "empty"),
        ("x" * 21, "21 characters long"),
        ("Acme", "upper-case"),
        ("acme/corp", "path separator"),
        ("..", "path separator or '..'"),
        ("a..b", "'..'"),
        ("acme\\x", "path separator"),
        ("shared", "reserved"),
        ("archive", "reserved"),
        ("ab", "shorter than 3"),
        ("1acme", "not valid"),
        ("acme--corp", "not valid"),
        ("acme-", "not valid"),
        ("acme corp", "not valid"),
        ('acme"}', "not valid"),
        ("acme\n", "not valid"),
        ("ac${x}", "not valid"),
    ],
)
def test_invalid_ids_say_why(bad: str, fragment: str) -> None:
    with pytest.raises(UserError) as exc:
        validate_tenant_id(bad)
    line = exc.value.one_line()
    assert fragment in line
    assert "\n" not in line


def test_aws_name_fits_and_is_stable() -> None:
    short = aws_name("local", "acme", "web")
    assert short == "local-acme-web"
    long = aws_name("production-eu", "x" * 20, "service")
    assert len(long) <= AWS_NAME_MAX
    assert long == aws_name("production-eu", "x" * 20, "service")
    # Two names that share the truncated prefix still differ.
    other = aws_name("production-eu", "x" * 20, "servicf")
    assert other != long and len(other) <= AWS_NAME_MAX
