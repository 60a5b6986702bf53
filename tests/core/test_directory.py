"""The directory's rules: texts, prices, who may ask, distances, opening hours, spreadsheets."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from linli.core.community import Building, Community, Compound
from linli.core.directory import (
    Checked,
    Offer,
    OfferDraft,
    OfferStatus,
    OfferStep,
    Organization,
    Payment,
    Place,
    Point,
    RowError,
    Visibility,
    WeeklyHours,
    buildings_nearest_first,
    by_walking,
    can_request,
    cell_of,
    cells_around,
    check_places,
    check_price,
    clean_text,
    haversine_m,
    nearby,
    org_tree,
    parse_day_hours,
    place_cells,
    walking_minutes,
)
from linli.core.outcomes import Refused

SH = ZoneInfo("Asia/Shanghai")
COMMUNITY = Community(
    "和平社区",
    (
        Compound("heyuan", "和苑小区", (
            Building("heyuan/1", "heyuan", "1", 39.125, 117.195),
            Building("heyuan/2", "heyuan", "2", 39.1254, 117.1958),
            Building("heyuan/3", "heyuan", "3", 39.1258, 117.1966),
        )),
        Compound("lihu", "丽湖小区", (
            Building("lihu/A", "lihu", "A", 39.132, 117.204),
            Building("lihu/B", "lihu", "B"),
        )),
    ),
)  # fmt: skip
CATS = ("pharmacy", "clinic", "station")


def offer(**kw: object) -> Offer:
    base: dict[str, object] = dict(
        id=1, member_id=1, building_id="heyuan/1", category="repairs", title="修水管",
        description="周末", payment=Payment.FREE, price="", available="周末",
        visibility=Visibility.COMPOUND, status=OfferStatus.ACTIVE, thanks=0,
        created_at=datetime(2026, 11, 1, tzinfo=SH),
    )  # fmt: skip
    base.update(kw)
    return Offer(**base)  # type: ignore[arg-type]


def test_texts_are_trimmed_and_empty_or_overlong_refused() -> None:
    assert clean_text("  修  水管 ", 60, what="title") == "修 水管"
    assert clean_text("   ", 60, what="title") == Refused("empty", {"what": "title"})
    assert clean_text("x" * 61, 60, what="title") == Refused(
        "too_long", {"what": "title", "max": 60, "got": 61}
    )


def test_a_free_offer_names_no_price_and_a_paid_one_needs_one() -> None:
    assert check_price(Payment.FREE, "") == ""
    assert check_price(Payment.FREE, "10元") == Refused("price_on_free")
    assert check_price(Payment.LOW, "") == Refused("price_required")
    assert check_price(Payment.PAID, " 50元/小时 ") == "50元/小时"


def test_the_offer_draft_walks_its_steps_and_round_trips() -> None:
    d = OfferDraft().with_category("repairs")
    assert d.step is OfferStep.TITLE
    d2 = d.with_text("修水管")
    assert isinstance(d2, OfferDraft)
    d3 = d2.with_text("小修小补")
    assert isinstance(d3, OfferDraft) and d3.step is OfferStep.PAYMENT
    free = d3.with_payment(Payment.FREE)
    assert free.step is OfferStep.AVAILABLE  # no price asked for a free offer
    paid = d3.with_payment(Payment.PAID)
    assert paid.step is OfferStep.PRICE and paid.with_text("") == Refused("price_required")
    done = free.with_text("周末")
    assert isinstance(done, OfferDraft)
    done = done.with_visibility(Visibility.BUILDING)
    assert done.complete and OfferDraft.from_data(done.to_data()) == done
    assert OfferDraft.from_data({"offer_step": "nonsense", "payment": "x"}) == OfferDraft()


def test_who_may_request_an_offer() -> None:
    assert can_request(None, 2, "heyuan/1", COMMUNITY) == Refused("unknown_offer")
    assert can_request(offer(), 1, "heyuan/1", COMMUNITY) == Refused("own_offer")
    paused = offer(status=OfferStatus.PAUSED)
    assert can_request(paused, 2, "heyuan/1", COMMUNITY) == Refused("offer_closed")
    assert can_request(offer(), 2, "heyuan/3", COMMUNITY) is None  # same compound
    assert can_request(offer(), 2, "lihu/A", COMMUNITY) == Refused("not_in_scope")
    own_building = offer(visibility=Visibility.BUILDING)
    assert can_request(own_building, 2, "heyuan/2", COMMUNITY) == Refused("not_in_scope")
    assert can_request(offer(visibility=Visibility.COMMUNITY), 2, None, COMMUNITY) is None


def test_distances() -> None:
    # One degree of latitude is about 111.2 km.
    assert abs(haversine_m(Point(39, 117), Point(40, 117)) - 111_195) < 10
    assert walking_minutes(1) == 1 and walking_minutes(1200) == 15
    order = by_walking(Point(39.125, 117.195), [("far", Point(39.135, 117.195)),
                                                 ("near", Point(39.1251, 117.195))])  # fmt: skip
    assert [name for name, _ in order] == ["near", "far"]
    assert buildings_nearest_first(COMMUNITY, "heyuan/3") == [
        "heyuan/3",
        "heyuan/2",
        "heyuan/1",
        "lihu/A",
        "lihu/B",
    ]


@given(
    st.floats(-80, 80), st.floats(-179, 179), st.floats(-80, 80), st.floats(-179, 179),
)  # fmt: skip
def test_haversine_is_symmetric_and_never_negative(a: float, b: float, c: float, d: float) -> None:
    one, two = Point(a, b), Point(c, d)
    assert haversine_m(one, two) >= 0
    assert abs(haversine_m(one, two) - haversine_m(two, one)) < 1e-6
    assert haversine_m(one, one) == 0


@given(st.floats(-80, 80), st.floats(-179, 179), st.floats(-0.009, 0.009), st.floats(-0.009, 0.009))
def test_a_place_within_a_kilometre_is_in_the_cells_around(
    lat: float, lon: float, dlat: float, dlon: float
) -> None:
    assert cell_of(lat + dlat, lon + dlon) in cells_around(Point(lat, lon))


def test_opening_hours() -> None:
    assert parse_day_hours("08:00-21:00") == ((480, 1260),)
    assert parse_day_hours("closed") == () and parse_day_hours("") == ()
    assert parse_day_hours("24h") == ((0, 1440),)
    assert parse_day_hours("22:00-02:00") == ((1320, 1560),)
    assert parse_day_hours("8点到9点") == Refused("bad_hours", {"value": "8点到9点"})
    assert parse_day_hours("09:00-09:00") == Refused("bad_hours", {"value": "09:00-09:00"})
    split = parse_day_hours("08:00-12:00,14:00-18:00")
    assert isinstance(split, tuple)
    week = WeeklyHours((split, (), ((1320, 1560),), (), (), (), ()))
    assert week.is_open(datetime(2026, 11, 23, 9, 0, tzinfo=SH))  # Monday morning
    assert not week.is_open(datetime(2026, 11, 23, 13, 0, tzinfo=SH))  # lunch
    assert not week.is_open(datetime(2026, 11, 24, 9, 0, tzinfo=SH))  # Tuesday: closed
    assert week.is_open(datetime(2026, 11, 26, 1, 30, tzinfo=SH))  # Wed night into Thursday
    assert not week.is_open(datetime(2026, 11, 26, 2, 0, tzinfo=SH))
    assert WeeklyHours.decode(week.encode()) == week


@given(st.lists(st.tuples(st.integers(0, 1439), st.integers(1, 1439)), max_size=3))
def test_hours_round_trip_through_text(spans: list[tuple[int, int]]) -> None:
    """Any day's spans (past midnight too) read back from their text unchanged."""
    day = tuple(sorted((start, start + length) for start, length in spans))
    week = WeeklyHours((day, (), (), (), (), (), ()))
    assert WeeklyHours.decode(week.encode()).days[0] == day


def test_nearby_orders_by_walk_and_says_open_now() -> None:
    def place(i: int, lat: float, hours: str) -> Place:
        parsed = parse_day_hours(hours)
        assert isinstance(parsed, tuple)
        return Place(i, f"P{i}", "pharmacy", "", lat, 117.195, WeeklyHours((parsed,) * 7))

    places = [place(1, 39.130, "08:00-21:00"), place(2, 39.126, "20:00-23:00"),
              place(3, 39.128, "")]  # fmt: skip
    listed = nearby(Point(39.125, 117.195), places, datetime(2026, 11, 26, 10, tzinfo=SH))
    assert [(n.place.id, n.open_now) for n in listed] == [(2, False), (3, None), (1, True)]
    assert listed[0].metres == 139 and listed[0].minutes == 2


HEADER = ["name", "category", "address", "lat", "lon", "phone", "note", "facilities", "keeper",
          "mon", "tue", "wed", "thu", "fri", "sat", "sun"]  # fmt: skip


def row(name: str = "老百姓大药房", category: str = "pharmacy", lat: str = "39.1260",
        hours: str = "08:00-21:00", facilities: str = "") -> list[str]:  # fmt: skip
    return [name, category, "和平路1号", lat, "117.1955", "022-1234", "", facilities, "",
            *([hours] * 7)]  # fmt: skip


def test_a_spreadsheet_is_checked_row_by_row() -> None:
    checked = check_places(HEADER, [
        row(), row(name=""), row(category="casino"), row(lat="north"), row(hours="9-5"),
        row(category="station", facilities="water,charging,sofa"), ["", ""],
        row(name="骑手驿站", category="station", facilities="water，charging"),
    ], CATS)  # fmt: skip
    assert [r.name for r in checked.rows] == ["老百姓大药房", "骑手驿站"]
    assert checked.rows[1].facilities == ("water", "charging")
    assert [(e.row, e.reason) for e in checked.errors] == [
        (3, "empty"), (4, "unknown_category"), (5, "bad_location"), (6, "bad_hours"),
        (7, "unknown_facility"),
    ]  # fmt: skip
    assert checked.errors[3].detail == {"column": "mon", "value": "9-5"}
    assert check_places(["name", "lat"], [], CATS) == Checked(
        (), (RowError(1, "missing_columns", {"columns": "category, lon"}),)
    )
    assert check_places(HEADER, [], CATS).errors[0].reason == "no_rows"


def test_an_exported_place_imports_again_unchanged() -> None:
    checked = check_places(HEADER, [row(hours="22:00-02:00", category="station",
                                        facilities="seats,water")], CATS)  # fmt: skip
    r = checked.rows[0]
    place = Place(1, r.name, r.category, r.address, r.lat, r.lon, r.hours, r.phone, r.note,
                  r.facilities)  # fmt: skip
    again = check_places(HEADER, [place_cells(place)], CATS)
    assert again.rows == checked.rows


def test_organizations_make_a_tree() -> None:
    orgs = [Organization("b", "支部", "party_branch", parent="p"),
            Organization("p", "党委", "party_committee"),
            Organization("v", "志愿队", "volunteer_team", parent="nowhere")]  # fmt: skip
    assert [(n.org.key, n.depth) for n in org_tree(orgs)] == [("p", 0), ("b", 1), ("v", 0)]
    assert orgs[2].joinable and not orgs[0].joinable
