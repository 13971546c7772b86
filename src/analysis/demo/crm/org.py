"""The org's fixed setup: users and roles, currencies with dated rates, opportunity stages.

Each stage draws from the CRM generator in a fixed order (roles, users, rates, stages);
:func:`users_and_roles` returns the :class:`Org` that later stages assign owners from,
:func:`currencies` the :class:`Rates` that convert amounts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.demo.crm.export import ExportTable, fmt_bool, fmt_datetime, fmt_number, new_ids
from analysis.demo.crm.headers import H_CURRENCY, H_DATED_RATE, H_STAGE, H_USER, H_USER_ROLE
from analysis.demo.crm.params import (
    AS_OF,
    GO_LIVE,
    MARKETING_TEAM,
    NULL_ID,
    STAGES,
    TEAMS,
    UNIFICATION_DATE,
)
from analysis.demo.crm.people import people, slug

#: Users per team (Sales teams and Marketing); an executive and the admin come on top.
TEAM_SIZES = {
    "Vertrieb Nord": 5,
    "Vertrieb Süd": 5,
    "Vertrieb West": 5,
    "Vertrieb Ost": 5,
    "Key Account": 5,
    "Marketing": 5,
}


@dataclass(frozen=True)
class Org:
    """User Ids later stages assign as owners and creators."""

    admin_id: str
    sales_users: np.ndarray
    marketing_users: np.ndarray


@dataclass(frozen=True)
class Rates:
    """Quarterly CHF per EUR rates (the corporate currency is EUR)."""

    quarters: pd.DatetimeIndex
    chf: np.ndarray

    def chf_rate_at(self, dates: np.ndarray) -> np.ndarray:
        """The CHF rate of the quarter each date falls in.

        Parameters
        ----------
        dates : numpy.ndarray
            Dates (anything ``datetime64[D]`` accepts).

        Returns
        -------
        numpy.ndarray
            Rates, the first or last quarter's outside the range.
        """
        quarter_starts = self.quarters.values.astype("datetime64[D]")
        idx = (
            np.searchsorted(quarter_starts, np.asarray(dates, dtype="datetime64[D]"), side="right")
            - 1
        )
        return self.chf[np.clip(idx, 0, len(self.chf) - 1)]


def users_and_roles(rng: np.random.Generator) -> tuple[Org, dict[str, ExportTable]]:
    """Roles, then users: five reps per team, Marketing, an executive and an admin.

    Parameters
    ----------
    rng : numpy.random.Generator
        The CRM part's generator.

    Returns
    -------
    Org
        Admin, Sales and Marketing user Ids.
    dict
        ``UserRole`` and ``User`` export tables.
    """
    role_names = (*TEAMS, MARKETING_TEAM, "Geschäftsführung")
    role_ids = new_ids("00E", len(role_names), rng)
    user_team = [team for team, k in TEAM_SIZES.items() for _ in range(k)] + [
        "Geschäftsführung",
        "",
    ]
    n_users = len(user_team)
    user_ids = new_ids("005", n_users, rng)
    admin_id = user_ids[-1]
    user_people = people(rng, n_users, np.full(n_users, "demo-software", dtype=object))
    role_of = dict(zip(role_names, role_ids, strict=True))
    org = Org(
        admin_id=admin_id,
        sales_users=np.array(
            [u for u, t in zip(user_ids, user_team, strict=True) if t in TEAMS], dtype=object
        ),
        marketing_users=np.array(
            [u for u, t in zip(user_ids, user_team, strict=True) if t == MARKETING_TEAM],
            dtype=object,
        ),
    )
    user_roles = np.array([role_of.get(t, NULL_ID) for t in user_team], dtype=object)
    return org, {
        "UserRole": _role_table(role_names, role_ids, admin_id),
        "User": _user_table(user_ids, user_team, user_roles, user_people, admin_id),
    }


def _role_table(role_names: tuple[str, ...], role_ids: np.ndarray, admin_id: str) -> ExportTable:
    n_roles = len(role_names)
    columns = {
        "Id": role_ids,
        "Name": np.array(role_names, dtype=object),
        "ParentRoleId": np.array([role_ids[-1]] * (n_roles - 1) + [NULL_ID], dtype=object),
        "RollupDescription": np.array(role_names, dtype=object),
        "OpportunityAccessForAccountOwner": "Edit",
        "CaseAccessForAccountOwner": "Edit",
        "ContactAccessForAccountOwner": "Edit",
        "ForecastUserId": NULL_ID,
        "MayForecastManagerShare": "0",
        "LastModifiedDate": fmt_datetime([GO_LIVE] * n_roles),
        "LastModifiedById": admin_id,
        "SystemModstamp": fmt_datetime([GO_LIVE] * n_roles),
        "PortalType": "None",
    }
    return H_USER_ROLE, columns, n_roles, {}


def _user_table(
    user_ids: np.ndarray,
    user_team: list[str],
    user_roles: np.ndarray,
    user_people: dict[str, np.ndarray],
    admin_id: str,
) -> ExportTable:
    n_users = len(user_ids)
    usernames = np.array(
        [
            f"{slug(f)}.{slug(s)}@demo-software.example"
            for f, s in zip(user_people["first"], user_people["last"], strict=True)
        ],
        dtype=object,
    )
    usernames[-1] = "integration@demo-software.example"
    aliases = [
        f"{f[:1]}{s[:4]}".lower()
        for f, s in zip(user_people["first"], user_people["last"], strict=True)
    ]
    columns = {
        "Id": user_ids,
        "Username": usernames,
        "FirstName": user_people["first"],
        "LastName": user_people["last"],
        "CompanyName": "Demo Software GmbH",
        "Department": np.array(user_team, dtype=object),
        "Title": np.array(
            ["Account Executive" if t in TEAMS else t for t in user_team], dtype=object
        ),
        "City": "Göttingen",
        "Country": "DE",
        "Email": usernames,
        "Phone": user_people["phone"],
        "MobilePhone": user_people["mobile"],
        "Alias": np.array(aliases, dtype=object),
        "CommunityNickname": usernames,
        "IsActive": "1",
        "IsSystemControlled": "0",
        "TimeZoneSidKey": "Europe/Berlin",
        "UserRoleId": user_roles,
        "LocaleSidKey": "de_DE",
        "ReceivesInfoEmails": "0",
        "ReceivesAdminInfoEmails": "0",
        "EmailEncodingKey": "UTF-8",
        "DefaultCurrencyIsoCode": "EUR",
        "CurrencyIsoCode": "EUR",
        "UserType": "Standard",
        "LanguageLocaleKey": "de",
        "DelegatedApproverId": NULL_ID,
        "ManagerId": NULL_ID,
        "CreatedDate": fmt_datetime([GO_LIVE] * n_users),
        "CreatedById": admin_id,
        "LastModifiedDate": fmt_datetime([GO_LIVE] * n_users),
        "LastModifiedById": admin_id,
        "SystemModstamp": fmt_datetime([GO_LIVE] * n_users),
        "ForecastEnabled": "0",
        "ContactId": NULL_ID,
        "AccountId": NULL_ID,
        "IsProfilePhotoActive": "0",
    }
    return H_USER, columns, n_users, {}


def currencies(rng: np.random.Generator, admin_id: str) -> tuple[Rates, dict[str, ExportTable]]:
    """EUR (corporate), CHF per EUR drifting down and USD, with quarterly dated rates.

    Parameters
    ----------
    rng : numpy.random.Generator
        The CRM part's generator.
    admin_id : str
        Creator of the records.

    Returns
    -------
    Rates
        The CHF rates by quarter.
    dict
        ``DatedConversionRate`` and ``CurrencyType`` export tables.
    """
    quarters = pd.date_range(GO_LIVE, AS_OF, freq="QS")
    chf_rates = np.round(
        1.08 - 0.03 * np.arange(len(quarters)) / 4 + rng.normal(0, 0.01, len(quarters)), 6
    )
    usd_rates = np.round(
        1.15 - 0.01 * np.arange(len(quarters)) / 4 + rng.normal(0, 0.02, len(quarters)), 6
    )
    dated = _dated_rates(quarters, chf_rates, usd_rates)
    n_dated = len(dated)
    dated_table = {
        "Id": new_ids("04w", n_dated, rng),
        "IsoCode": np.array([d[0] for d in dated], dtype=object),
        "StartDate": np.array([d[1] + " 00:00:00" for d in dated], dtype=object),
        "NextStartDate": np.array([d[2] + " 00:00:00" for d in dated], dtype=object),
        "ConversionRate": fmt_number([d[3] for d in dated], 6),
        "CreatedDate": fmt_datetime([GO_LIVE] * n_dated),
        "CreatedById": admin_id,
        "LastModifiedDate": fmt_datetime([GO_LIVE] * n_dated),
        "LastModifiedById": admin_id,
        "SystemModstamp": fmt_datetime([GO_LIVE] * n_dated),
    }
    currency_table = {
        "Id": new_ids("02A", 3, rng),
        "IsoCode": np.array(["EUR", "CHF", "USD"], dtype=object),
        "ConversionRate": fmt_number([1.0, chf_rates[-1], usd_rates[-1]], 6),
        "DecimalPlaces": "2",
        "IsActive": "1",
        "IsCorporate": np.array(["1", "0", "0"], dtype=object),
        "CreatedDate": fmt_datetime([GO_LIVE] * 3),
        "CreatedById": admin_id,
        "LastModifiedDate": fmt_datetime([AS_OF - pd.Timedelta(days=80)] * 3),
        "LastModifiedById": admin_id,
        "SystemModstamp": fmt_datetime([AS_OF - pd.Timedelta(days=80)] * 3),
    }
    return Rates(quarters=quarters, chf=chf_rates), {
        "DatedConversionRate": (H_DATED_RATE, dated_table, n_dated, {}),
        "CurrencyType": (H_CURRENCY, currency_table, 3, {}),
    }


def _dated_rates(
    quarters: pd.DatetimeIndex, chf_rates: np.ndarray, usd_rates: np.ndarray
) -> list[tuple[str, str, str, float]]:
    """Rows ``(iso, start, next_start, rate)``; Salesforce keeps open-ended first/last periods."""
    dated = []
    for iso, rates in (("EUR", None), ("CHF", chf_rates), ("USD", usd_rates)):
        if rates is None:
            dated.append((iso, "0001-01-01", "9999-12-31", 1.0))
            continue
        dated.append((iso, "0001-01-01", str(quarters[0].date()), float(rates[0])))
        for i, start in enumerate(quarters):
            nxt = str(quarters[i + 1].date()) if i + 1 < len(quarters) else "9999-12-31"
            dated.append((iso, str(start.date()), nxt, float(rates[i])))
    return dated


def stage_table(rng: np.random.Generator, admin_id: str) -> ExportTable:
    """The ``OpportunityStage`` table (Vertragsprüfung added at the unification).

    Parameters
    ----------
    rng : numpy.random.Generator
        The CRM part's generator (draws the Ids).
    admin_id : str
        Creator of the records.

    Returns
    -------
    tuple
        The export table.
    """
    n_stages = len(STAGES)
    stage_created = [GO_LIVE] * 5 + [UNIFICATION_DATE] + [GO_LIVE] * 2
    columns = {
        "Id": new_ids("01J", n_stages, rng),
        "MasterLabel": np.array([s[0] for s in STAGES], dtype=object),
        "ApiName": np.array([s[0] for s in STAGES], dtype=object),
        "IsActive": "1",
        "SortOrder": np.array([str(s[1]) for s in STAGES], dtype=object),
        "IsClosed": fmt_bool([s[2] for s in STAGES]),
        "IsWon": fmt_bool([s[3] for s in STAGES]),
        "ForecastCategory": np.array([s[5] for s in STAGES], dtype=object),
        "ForecastCategoryName": np.array([s[6] for s in STAGES], dtype=object),
        "DefaultProbability": np.array([str(s[4]) for s in STAGES], dtype=object),
        "CreatedById": admin_id,
        "CreatedDate": fmt_datetime(stage_created),
        "LastModifiedById": admin_id,
        "LastModifiedDate": fmt_datetime(stage_created),
        "SystemModstamp": fmt_datetime(stage_created),
    }
    return H_STAGE, columns, n_stages, {}
