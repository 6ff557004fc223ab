from app.core.uscc import check_char, make, validate


def test_known_valid_codes():
    # published codes of real firms / public bodies
    for code in ["91350100M000100Y43", "91110000600037341L", "11100000000013127D"]:
        assert validate(code) is None, code


def test_check_character_errors():
    assert "校验位" in validate("91350100M000100Y44")
    assert "18位" in validate("9135010")
    assert "无效字符" in validate("91350100M000100YI3")


def test_make_round_trip():
    code = make("91500114MA0000011")
    assert len(code) == 18 and validate(code) is None and code[-1] == check_char(code[:17])
