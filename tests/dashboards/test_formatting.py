from dashboards.formatting import compact


def test_compact_keeps_small_numbers_exact_and_shortens_large_ones():
    assert compact(4640, "$") == "$4,640"
    assert compact(99_999) == "99,999"
    assert compact(134_567) == "134.6K"
    assert compact(10_312_000, "$") == "$10.3M"
    assert compact(2_500_000_000) == "2.5B"
