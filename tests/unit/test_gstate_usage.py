"""Which graphics states a page's content selects (gstates, on the walk of fontusage), and what
the page rebuild (pdfclean) does with a transparent one: left out when nothing selects it,
the page rasterised when something does or when the walk is in doubt."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pikepdf
import pytest
from pikepdf import Array, Dictionary, Name, Pdf, Stream

from briefkasten.pipeline import fontusage
from briefkasten.pipeline.fontusage import FontUsage, page_streams
from briefkasten.pipeline.gstates import ALL_USED, StateUse, state_use, transparency
from briefkasten.pipeline.pdfclean import PageLimits, inspect_page, sanitise_page
from tests.support.vectorpages import tiling_pattern, type3_font

LIMITS = PageLimits(max_pixels=1_000_000, max_stream_bytes=1 << 20, max_page_stream_bytes=2 << 20)
TEXT = b"BT /F1 12 Tf 20 100 Td (Hallo Welt) Tj ET\n"
ALPHA = "constant alpha below 1 (transparency)"
Build = Callable[[Pdf, Dictionary], None]


def alpha(value: float = 0.5) -> Dictionary:
    return Dictionary(Type=Name.ExtGState, ca=value, CA=value)


def form(pdf: Pdf, content: bytes, resources: Dictionary | None = None) -> Stream:
    stream = Stream(pdf, content)
    stream.update({"/Type": Name.XObject, "/Subtype": Name.Form, "/BBox": Array([0, 0, 9, 9])})
    if resources is not None:
        stream["/Resources"] = resources
    return stream


def new_page(pdf: Pdf, content: bytes) -> Dictionary:
    """A page with a Helvetica line and ``content`` after it; its resources direct."""
    font = Dictionary(Type=Name.Font, Subtype=Name.Type1, BaseFont=Name.Helvetica)
    page = pdf.add_blank_page(page_size=(200, 200)).obj
    page.Resources = Dictionary(Font=Dictionary(F1=font), ExtGState=Dictionary())
    page.Contents = Stream(pdf, TEXT + content)
    return page


def use(pdf: Pdf, page: Dictionary) -> StateUse:
    return state_use(pdf, page, page.Resources)


def unused(found: StateUse, resources: Dictionary, name: str) -> bool:
    return found.unused(resources.ExtGState[name])


def test_a_state_nothing_selects_is_unused_and_a_direct_one_is_told_apart() -> None:
    with pikepdf.new() as pdf:
        page = new_page(pdf, b"0 0 10 10 re f")
        page.Resources.ExtGState.GS1 = alpha()  # direct
        page.Resources.ExtGState.GS2 = pdf.make_indirect(alpha())
        found = use(pdf, page)
        assert found.complete
        assert page.Resources.ExtGState.GS1.is_indirect  # made indirect on the way
        assert unused(found, page.Resources, "/GS1") and unused(found, page.Resources, "/GS2")


def test_a_state_the_page_selects_is_used_inside_and_after_q_and_Q() -> None:
    with pikepdf.new() as pdf:
        content = b"q q /GS1 gs 0 0 9 9 re f Q Q /F1 10 Tf q Q /GS2 gs 0 0 5 5 re f"
        page = new_page(pdf, content)
        for name in ("/GS1", "/GS2", "/GS3"):
            page.Resources.ExtGState[name] = alpha()
        found = use(pdf, page)
        res = page.Resources
        assert found.complete
        assert not unused(found, res, "/GS1") and not unused(found, res, "/GS2")
        assert unused(found, res, "/GS3")


def test_nested_forms_select_from_their_own_resources() -> None:
    """``/GS1`` in the inner form is the inner form's state, not the page's of that name."""
    with pikepdf.new() as pdf:
        inner_res = Dictionary(ExtGState=Dictionary(GS1=alpha()))
        inner = form(pdf, b"q /GS1 gs 0 0 9 9 re f Q", inner_res)
        outer = form(pdf, b"q /Fm2 Do Q", Dictionary(XObject=Dictionary(Fm2=inner)))
        page = new_page(pdf, b"q /Fm1 Do Q")
        page.Resources.XObject = Dictionary(Fm1=outer)
        page.Resources.ExtGState.GS1 = alpha()
        found = use(pdf, page)
        assert found.complete
        assert not found.unused(inner.Resources.ExtGState.GS1)
        assert unused(found, page.Resources, "/GS1")


def test_a_form_without_resources_selects_from_each_set_in_force() -> None:
    """A form that inherits resources, drawn by the page and by a form with its own: the
    ``/GS1`` of both is selected (each is read once per resources in force)."""
    with pikepdf.new() as pdf:
        bare = form(pdf, b"/GS1 gs 0 0 9 9 re f")
        mid_res = Dictionary(XObject=Dictionary(Fm1=bare), ExtGState=Dictionary(GS1=alpha()))
        mid = form(pdf, b"/Fm1 Do", mid_res)
        page = new_page(pdf, b"/Fm1 Do /Fm0 Do")
        page.Resources.XObject = Dictionary(Fm0=mid, Fm1=bare)
        page.Resources.ExtGState.GS1 = alpha()
        page.Resources.ExtGState.GS2 = alpha()
        found = use(pdf, page)
        assert found.complete
        assert not unused(found, page.Resources, "/GS1")
        assert not found.unused(mid.Resources.ExtGState.GS1)
        assert unused(found, page.Resources, "/GS2")


def test_a_form_nothing_draws_keeps_what_it_selects() -> None:
    with pikepdf.new() as pdf:
        idle = form(pdf, b"/GS1 gs 0 0 9 9 re f", Dictionary(ExtGState=Dictionary(GS1=alpha())))
        page = new_page(pdf, b"")
        page.Resources.XObject = Dictionary(Fm9=idle)
        page.Resources.ExtGState.GS2 = alpha()
        found = use(pdf, page)
        assert not found.unused(idle.Resources.ExtGState.GS1)
        assert unused(found, page.Resources, "/GS2")


def test_type3_glyphs_and_tiling_patterns_select_from_their_resources() -> None:
    with pikepdf.new() as pdf:
        glyph_res = Dictionary(ExtGState=Dictionary(GS1=alpha()))
        type3 = type3_font(pdf, b"0 0 d0 /GS1 gs 0 0 10 10 re f", glyph_res)
        tile_res = Dictionary(ExtGState=Dictionary(GS2=alpha()))
        tile = tiling_pattern(pdf, b"/GS2 gs 0 0 5 5 re f", tile_res)
        page = new_page(pdf, b"BT /T3 10 Tf (a) Tj ET")
        page.Resources.Font.T3 = type3
        page.Resources.Pattern = Dictionary(P1=tile)
        page.Resources.ExtGState.GS3 = alpha()
        found = use(pdf, page)
        assert found.complete
        assert not found.unused(page.Resources.Font.T3.Resources.ExtGState.GS1)
        assert not found.unused(tile.Resources.ExtGState.GS2)
        assert unused(found, page.Resources, "/GS3")


@pytest.mark.parametrize(
    "content",
    [b"/GS9 gs", b"/GS8 gs", b"[1] gs"],
    ids=["missing-name", "not-a-state", "not-a-name"],
)
def test_a_gs_that_names_no_state_counts_every_state_as_used(content: bytes) -> None:
    with pikepdf.new() as pdf:
        page = new_page(pdf, b"/Fm1 Do")
        own = Dictionary(ExtGState=Dictionary(GS7=alpha(), GS8=Array([1])))
        page.Resources.XObject = Dictionary(Fm1=form(pdf, b"/GS7 gs " + content, own))
        page.Resources.ExtGState.GS1 = alpha()
        found = use(pdf, page)
        assert found == ALL_USED and not unused(found, page.Resources, "/GS1")


@pytest.mark.parametrize("glyph", [b"/GS1 gs", b"/Fm1 Do"], ids=["gs", "Do"])
def test_a_glyph_without_resources_counts_every_state_as_used(glyph: bytes) -> None:
    """A Type 3 glyph without ``/Resources`` would take them from where the font is used (a
    form that inherits them, drawn there, would select from those)."""
    with pikepdf.new() as pdf:
        type3 = Dictionary(
            Type=Name.Font,
            Subtype=Name.Type3,
            FontBBox=Array([0, 0, 10, 10]),
            FontMatrix=Array([0.1, 0, 0, 0.1, 0, 0]),
            CharProcs=Dictionary(a=Stream(pdf, b"0 0 d0 " + glyph + b" 0 0 10 10 re f")),
            Encoding=Dictionary(Type=Name.Encoding, Differences=Array([97, Name.a])),
            FirstChar=97,
            LastChar=97,
            Widths=Array([10]),
        )
        page = new_page(pdf, b"/Fm1 Do BT /T3 10 Tf (a) Tj ET")
        page.Resources.Font.T3 = type3
        page.Resources.ExtGState.GS1 = alpha()
        page.Resources.XObject = Dictionary(Fm1=form(pdf, b"/GS1 gs"))  # inherits
        assert use(pdf, page) == ALL_USED


@pytest.mark.parametrize(
    "broken",
    [b"q /Bogus", b"q (an unterminated string /GS9 gs"],
    ids=["unknown-filter", "qpdf-warns"],
)
def test_an_unparsable_stream_counts_every_state_as_used(broken: bytes) -> None:
    with pikepdf.new() as pdf:
        page = new_page(pdf, b"")
        stream = Stream(pdf, broken)
        if broken == b"q /Bogus":
            stream.Filter = Name("/Bogus")  # qpdf cannot decode it: PdfError
        page.Resources.XObject = Dictionary(Fm1=form(pdf, b"q Q"))
        page.Contents = Array([page.Contents, stream])
        page.Resources.ExtGState.GS1 = alpha()
        found = use(pdf, page)
        assert found == ALL_USED and not unused(found, page.Resources, "/GS1")


def test_over_the_operator_budget_every_state_counts_as_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(fontusage, "MAX_OPERATORS", 20)
    with pikepdf.new() as pdf:
        page = new_page(pdf, b"0 0 m 1 1 l S\n" * 30)
        page.Resources.ExtGState.GS1 = alpha()
        assert use(pdf, page) == ALL_USED


def test_no_transparent_state_means_nothing_to_decide() -> None:
    with pikepdf.new() as pdf:
        page = new_page(pdf, b"/GS0 gs")
        page.Resources.ExtGState.GS0 = alpha(1.0)
        assert transparency(page.Resources.ExtGState.GS0) is None
        assert use(pdf, page) == ALL_USED  # not read at all: an opaque state is copied anyway


# -- attacks: loops and depth, bounded ------------------------------------------------------------


def test_a_form_that_draws_itself_is_read_once() -> None:
    with pikepdf.new() as pdf:
        own = form(pdf, b"/GS1 gs /Fm1 Do", Dictionary(ExtGState=Dictionary(GS1=alpha())))
        own.Resources.XObject = Dictionary(Fm1=own)  # through its own resources
        bare = form(pdf, b"/Fm2 Do /GS2 gs /Fm2 Do")  # through the page's
        page = new_page(pdf, b"/Fm1 Do /Fm2 Do")
        page.Resources.XObject = Dictionary(Fm1=own, Fm2=bare)
        page.Resources.ExtGState.GS2 = alpha()
        page.Resources.ExtGState.GS3 = alpha()
        found = use(pdf, page)
        assert found.complete
        assert not found.unused(own.Resources.ExtGState.GS1)
        assert not unused(found, page.Resources, "/GS2")
        assert unused(found, page.Resources, "/GS3")


def test_forms_that_draw_each_other_twice_are_read_once_each() -> None:
    """Twelve levels, each form drawing the next twice: 2^12 draws, 12 reads."""
    with pikepdf.new() as pdf:
        inner = form(pdf, b"/GS1 gs", Dictionary(ExtGState=Dictionary(GS1=alpha())))
        for _ in range(fontusage.MAX_DEPTH - 1):
            inner = form(pdf, b"/X Do /X Do", Dictionary(XObject=Dictionary(X=inner)))
        page = new_page(pdf, b"/X Do /X Do")
        page.Resources.XObject = Dictionary(X=inner)
        page.Resources.ExtGState.GS2 = alpha()
        usage = FontUsage(pdf)
        usage.resources(page.Resources, 0)
        usage.content(page_streams(page), page.Resources, 0, None)
        assert usage.operators < 100 and len(usage.selected) == 1
        assert unused(use(pdf, page), page.Resources, "/GS2")


def deep_forms(levels: int) -> Build:
    """``levels`` form XObjects, each drawing the next; a transparent state on the page."""

    def build(pdf: Pdf, page: Dictionary) -> None:
        inner = form(pdf, b"q Q")
        for _ in range(levels):
            inner = form(pdf, b"/X Do", Dictionary(XObject=Dictionary(X=inner)))
        page.Resources.XObject = Dictionary(X=inner)
        page.Resources.ExtGState.GS1 = alpha()

    return build


def test_deep_nesting_is_bounded_and_counts_every_state_as_used(tmp_path: Path) -> None:
    with pikepdf.new() as pdf:
        page = new_page(pdf, b"/X Do")
        deep_forms(200)(pdf, page)
        started = time.perf_counter()
        found = use(pdf, page)
        assert found == ALL_USED and time.perf_counter() - started < 5
    reason = inspect_page(page_pdf(tmp_path, b"/X Do", deep_forms(200)), 0, LIMITS).unsafe
    # which comes first depends on pikepdf's order of keys (it varies from run to run)
    assert reason in ("form XObjects nested deeper than 12", ALPHA)


# -- the page rebuild ---------------------------------------------------------------------------


def page_pdf(tmp_path: Path, content: bytes, build: Build) -> Path:
    path = tmp_path / "in.pdf"
    with pikepdf.new() as pdf:
        build(pdf, new_page(pdf, content))
        pdf.save(path)
    return path


STATES = {
    "fill-alpha": (Dictionary(ca=0.5), ALPHA),
    "stroke-alpha": (Dictionary(CA=0.0), ALPHA),
    "blend": (Dictionary(BM=Name.Multiply), "blend mode other than Normal (transparency)"),
    "soft-mask": (
        Dictionary(SMask=Dictionary(S=Name.Luminosity)),
        "soft mask in a graphics state (transparency)",
    ),
}


def with_states(state: Dictionary, drawn: bytes) -> Build:
    """An opaque ``/GS0`` and ``state`` as ``/GS1`` on the page; a form ``/Fm1`` with the same
    states and the content ``drawn``."""

    def build(pdf: Pdf, page: Dictionary) -> None:
        states = Dictionary(GS0=Dictionary(Type=Name.ExtGState, LW=2), GS1=state)
        page.Resources.ExtGState = pdf.make_indirect(states)
        page.Resources.XObject = Dictionary(Fm1=form(pdf, drawn, Dictionary(ExtGState=states)))

    return build


@pytest.mark.parametrize("kind", list(STATES), ids=list(STATES))
def test_an_unselected_transparent_state_is_left_out_of_the_copy(tmp_path: Path, kind: str) -> None:
    state, _ = STATES[kind]
    build = with_states(state, b"/GS0 gs 0 0 9 9 re f")
    source = page_pdf(tmp_path, b"q /GS0 gs 0 0 9 9 re f Q /Fm1 Do", build)
    assert inspect_page(source, 0, LIMITS).unsafe is None
    result = sanitise_page(source, tmp_path / "out.pdf", LIMITS)
    assert result.unsafe is None and "/ExtGStateUnused" in result.dropped
    with pikepdf.open(tmp_path / "out.pdf") as out:
        page = out.pages[0]
        assert list(page.Resources.ExtGState.keys()) == ["/GS0"]  # opaque: kept
        assert list(page.Resources.XObject.Fm1.Resources.ExtGState.keys()) == ["/GS0"]
        for obj in out.objects:
            if isinstance(obj, Dictionary):
                assert transparency(obj) is None


@pytest.mark.parametrize("kind", list(STATES), ids=list(STATES))
@pytest.mark.parametrize(
    ("content", "drawn"),
    [(b"q /GS1 gs 0 0 9 9 re f Q", b""), (b"q /Fm1 Do Q", b"q /GS1 gs 0 0 9 9 re f Q")],
    ids=["page", "form"],
)
def test_a_selected_transparent_state_rasterises_with_the_reason_as_before(
    tmp_path: Path, kind: str, content: bytes, drawn: bytes
) -> None:
    state, reason = STATES[kind]
    source = page_pdf(tmp_path, content, with_states(state, drawn))
    assert inspect_page(source, 0, LIMITS).unsafe == reason
    assert sanitise_page(source, tmp_path / "out.pdf", LIMITS).unsafe == reason


def test_a_transparent_state_of_a_shading_pattern_still_rasterises(tmp_path: Path) -> None:
    """Not selected by ``gs`` but painted with the pattern: used, also when the same state is
    listed under the page's resources and nothing selects it there."""

    def build(pdf: Pdf, page: Dictionary) -> None:
        state = pdf.make_indirect(alpha())
        page.Resources.ExtGState.GS1 = state
        function = Dictionary(FunctionType=2, Domain=[0, 1], C0=[0, 0, 0], C1=[1, 1, 1], N=1)
        shading = Dictionary(
            ShadingType=2, ColorSpace=Name.DeviceRGB, Coords=[0, 0, 9, 9], Function=function
        )
        pattern = Dictionary(PatternType=2, Shading=shading, ExtGState=state)
        page.Resources.Pattern = Dictionary(P1=pattern)

    reason = inspect_page(page_pdf(tmp_path, b"", build), 0, LIMITS).unsafe
    assert reason == ALPHA


@pytest.mark.parametrize("selects", [True, False])
def test_an_annotation_appearance_is_read_for_what_it_selects(
    tmp_path: Path, selects: bool
) -> None:
    def build(pdf: Pdf, page: Dictionary) -> None:
        content = b"/GS1 gs 0 0 9 9 re f" if selects else b"0 0 9 9 re f"
        look = form(pdf, content, Dictionary(ExtGState=Dictionary(GS1=alpha())))
        annot = Dictionary(
            Type=Name.Annot, Subtype=Name.Square, Rect=[0, 0, 9, 9], AP=Dictionary(N=look)
        )
        page.Annots = Array([pdf.make_indirect(annot)])

    reason = inspect_page(page_pdf(tmp_path, b"", build), 0, LIMITS).unsafe
    assert reason == (ALPHA if selects else None)


def test_a_page_that_selects_a_state_in_a_looping_form_is_rasterised(tmp_path: Path) -> None:
    def build(pdf: Pdf, page: Dictionary) -> None:
        loop = form(pdf, b"/GS1 gs /Fm1 Do", Dictionary(ExtGState=Dictionary(GS1=alpha())))
        loop.Resources.XObject = Dictionary(Fm1=loop)
        page.Resources.XObject = Dictionary(Fm1=loop)

    reason = inspect_page(page_pdf(tmp_path, b"/Fm1 Do", build), 0, LIMITS).unsafe
    assert reason in (ALPHA, "form XObjects refer to each other in a loop")
