from dashboards.formatting import compact, count_axis, money, percent, times


def test_compact_keeps_small_numbers_exact_and_shortens_large_ones():
    assert compact(4640, "$") == "$4,640"
    assert compact(99_999) == "99,999"
    assert compact(134_567) == "134.6K"
    assert compact(10_312_000, "$") == "$10.3M"
    assert compact(2_500_000_000) == "2.5B"


def test_count_axis_ticks_whole_numbers():
    assert count_axis(2)["dtick"] == 1
    assert count_axis(13)["dtick"] == 3
    assert count_axis(float("nan"))["dtick"] == 1


def test_number_formats():
    assert money(1234.56) == "$1,235" and money(-5.0, 2) == "$-5.00"
    assert percent(0.00512, 2) == "0.51%"
    assert times(9.24) == "9.2x"
    assert percent(None) == "n/a" and times(float("nan")) == "n/a"
