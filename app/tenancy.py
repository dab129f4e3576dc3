"""The one tenancy rule: a caller sees the rows of its account's whole subtree, and nothing else.

Every read that filters by caller (the GraphQL loaders, the services' `get_owned`) takes its condition here.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, false, select
from sqlmodel import col

from app.auth import Principal, account_in_subtree
from app.models import Account, Device, ExternalLimit, ForecastPoint, OptimizationConfiguration, PricePoint, Site

# Rows without an account of their own, owned through their site or their device.
_BY_SITE = (PricePoint, ExternalLimit, OptimizationConfiguration)
_BY_DEVICE = (ForecastPoint,)


def in_subtree(principal: Principal | None, model: Any) -> ColumnElement[bool]:
    """SQL condition on `model`'s rows: they lie in the caller's subtree; no principal sees nothing."""
    if principal is None:
        return false()
    return in_subtree_at(principal.account_path, model)


def in_subtree_at(path: str | ColumnElement[str], model: Any) -> ColumnElement[bool]:
    """`model`'s rows in the subtree of the account at `path`: a value, or a bound parameter that each read fills
    in (a statement built once for every caller, `resolvers.loader_kinds`)."""
    if model is Account:
        return col(Account.path).startswith(path)
    if model in _BY_SITE:
        return col(model.site_id).in_(select(col(Site.id)).where(account_in_subtree(col(Site.account_id), path)))
    if model in _BY_DEVICE:
        return col(model.device_id).in_(select(col(Device.id)).where(account_in_subtree(col(Device.account_id), path)))
    return account_in_subtree(col(model.account_id), path)
