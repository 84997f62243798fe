from visavis.routing.offers import OfferBook


def test_offers_move_on_after_timeout_and_respect_free_slots() -> None:
    book = OfferBook(timeout_s=10)
    cands = {"c1": ["anna", "ben"], "c2": ["anna", "ben"], "c3": ["anna", "ben"]}
    made = book.plan(["c1", "c2", "c3"], cands.__getitem__, {"anna": 1, "ben": 1}, now=0)
    # one offer per free slot: c3 waits for a slot
    assert made == [("c1", "anna"), ("c2", "ben")]
    assert book.plan(["c1", "c2", "c3"], cands.__getitem__, {"anna": 1, "ben": 1}, now=1) == []
    # anna does not answer: after the timeout c1 goes to ben, who is busy with c2's offer
    assert book.expire(now=10) == [("c1", "anna"), ("c2", "ben")]
    made = book.plan(["c1", "c2", "c3"], cands.__getitem__, {"anna": 1, "ben": 1}, now=10)
    assert made == [("c1", "ben"), ("c2", "anna")]


def test_decline_and_new_round_and_forget() -> None:
    book = OfferBook(timeout_s=10)
    only_anna = {"c1": ["anna"]}
    assert book.plan(["c1"], only_anna.__getitem__, {"anna": 3}, now=0) == [("c1", "anna")]
    assert not book.decline("c1", "ben")  # not ben's offer
    assert book.decline("c1", "anna")
    # everyone (anna) was asked: a new round asks anna again
    assert book.plan(["c1"], only_anna.__getitem__, {"anna": 3}, now=1) == [("c1", "anna")]
    assert book.forget("c1") is not None and book.current("c1") is None
