"""get_owned / find_owned: a row of another company answers exactly like a missing one."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests import factories
from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import Contact, Help
from whaticket.utils.queries import find_owned, get_owned

CODE = "ERR_NO_CONTACT_FOUND"


@pytest.fixture
def ours(company) -> Contact:
    """A contact of the caller's company."""
    return factories.ContactFactory(company=company)


@pytest.fixture
def theirs(other_company) -> Contact:
    """A contact of another company."""
    return factories.ContactFactory(company=other_company)


def _missing_id() -> int:
    """An id no contact has."""
    return (db.session.scalar(sa.select(sa.func.max(Contact.id))) or 0) + 1000


def test_get_owned_returns_the_row_of_the_callers_company(company, ours):
    assert get_owned(Contact, ours.id, company.id, CODE) is ours


def test_find_owned_returns_the_row_of_the_callers_company(company, ours):
    assert find_owned(Contact, ours.id, company.id) is ours


@pytest.mark.parametrize("case", ["other_company", "missing", "none"])
def test_get_owned_answers_not_yours_like_not_found(company, theirs, case):
    record_id = {"other_company": theirs.id, "missing": _missing_id(), "none": None}[case]
    with pytest.raises(AppError) as err:
        get_owned(Contact, record_id, company.id, CODE)
    assert (err.value.code, err.value.status) == (CODE, 404)


@pytest.mark.parametrize("case", ["other_company", "missing", "none"])
def test_get_owned_raises_the_given_status(company, theirs, case):
    record_id = {"other_company": theirs.id, "missing": _missing_id(), "none": None}[case]
    with pytest.raises(AppError) as err:
        get_owned(Contact, record_id, company.id, "ERR_VALIDATION", status=400)
    assert (err.value.code, err.value.status) == ("ERR_VALIDATION", 400)


def test_find_owned_is_none_when_not_yours_missing_or_none(company, theirs):
    assert find_owned(Contact, theirs.id, company.id) is None
    assert find_owned(Contact, _missing_id(), company.id) is None
    assert find_owned(Contact, None, company.id) is None


def test_the_owner_still_gets_its_row(other_company, theirs):
    """The check is by company, not a blanket refusal: the other tenant sees its own row."""
    assert get_owned(Contact, theirs.id, other_company.id, CODE) is theirs


def test_a_global_row_belongs_to_no_company(company):
    """A model without company_id (a global help video) is never anyone's to own."""
    video = Help(title="Welcome")
    db.session.add(video)
    db.session.flush()
    assert find_owned(Help, video.id, company.id) is None
