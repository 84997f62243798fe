from visavis.routing.offers import OfferBook


def test_offers_move_on_after_timeout_and_respect_free_slots() -> None:
    book = OfferBook(timeout_s=10)
    both = [("anna", 1), ("ben", 1)]
    cands = {"c1": both, "c2": both, "c3": both}
    made = book.plan(["c1", "c2", "c3"], cands.__getitem__, now=0)
    # one offer per free slot: c3 waits for a slot
    assert made == [("c1", "anna"), ("c2", "ben")]
    assert book.plan(["c1", "c2", "c3"], cands.__getitem__, now=1) == []
    # anna does not answer: after the timeout c1 goes to ben, who is busy with c2's offer
    assert book.expire(now=10) == [("c1", "anna"), ("c2", "ben")]
    made = book.plan(["c1", "c2", "c3"], cands.__getitem__, now=10)
    assert made == [("c1", "ben"), ("c2", "anna")]


def test_free_slots_are_per_conversation() -> None:
    # Anna has 1 slot left for c1's team (its limit is lower) but 2 for c2's.
    book = OfferBook(timeout_s=10)
    cands = {"c1": [("anna", 1)], "c2": [("anna", 2)], "c3": [("anna", 1)]}
    made = book.plan(["c1", "c2", "c3"], cands.__getitem__, now=0)
    # c2 still fits beside the offer of c1; c3 does not (its team allows 1)
    assert made == [("c1", "anna"), ("c2", "anna")]


def test_decline_and_new_round_and_forget() -> None:
    book = OfferBook(timeout_s=10)
    only_anna = {"c1": [("anna", 3)]}
    assert book.plan(["c1"], only_anna.__getitem__, now=0) == [("c1", "anna")]
    assert not book.decline("c1", "ben")  # not ben's offer
    assert book.decline("c1", "anna")
    # everyone (anna) was asked: a new round asks anna again
    assert book.plan(["c1"], only_anna.__getitem__, now=1) == [("c1", "anna")]
    assert book.forget("c1") is not None and book.current("c1") is None
