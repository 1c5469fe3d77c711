"""Deterministic synthetic shop data: users, events, purchases and a product catalog.

The demo project at the repository root, the docs, the tests and the benchmarks all run
on this data, so it must be the same on every machine and every Python run: only
`random.Random(seed)` drives it (no hash-ordered sets, no wall clock), and the default
`as_of` is a fixed instant. The data is meant to look like a real shop's, with the dirt
real data has (NULL and empty values, missing JSON keys, users who are in the events but
not in the users table, a few events after `as_of`), because that is what filters must
get right.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

DEFAULT_AS_OF = datetime(2026, 11, 22, 12, 0, 0)
"""The instant the demo data is generated "at" when no `as_of` is given (naive UTC)."""

EVENT_WINDOW_DAYS = 400  # behaviour is generated in the days before as_of
SIGNUP_WINDOW_DAYS = 3 * 365  # signups spread over the last three years
FUTURE_WINDOW_DAYS = 14  # the few sessions after as_of fall in this window
DAY = 86_400
_EPOCH = datetime(1970, 1, 1)


@dataclass(frozen=True)
class DemoTable:
    """One table to load: its name, typed columns and rows (Python values in column order).

    Logical types: VARCHAR, BIGINT, DOUBLE, BOOLEAN, TIMESTAMP (naive UTC datetime),
    JSON (a str holding JSON text) and VARCHAR[] (a list of str); any value may be None.
    """

    name: str
    columns: tuple[tuple[str, str], ...]
    rows: list[tuple[Any, ...]]


USERS_COLUMNS: tuple[tuple[str, str], ...] = (
    ("external_id", "VARCHAR"),
    ("country", "VARCHAR"),
    ("age", "DOUBLE"),
    ("is_vip", "BOOLEAN"),
    ("signup_at", "TIMESTAMP"),
    ("last_seen_ms", "BIGINT"),
    ("interests", "VARCHAR[]"),
    ("profile", "JSON"),
    ("email", "VARCHAR"),
    ("last_lat", "DOUBLE"),
    ("last_lon", "DOUBLE"),
    ("membership_expires_at", "TIMESTAMP"),
    ("email_opt_in", "BOOLEAN"),
)
#: a churn model's nightly scores (SPEC 8.3 trait table): one row per scored user
CHURN_COLUMNS: tuple[tuple[str, str], ...] = (
    ("external_id", "VARCHAR"),
    ("churn_score", "DOUBLE"),
    ("churn_band", "VARCHAR"),
    ("scored_at", "TIMESTAMP"),
)
#: how long before as_of the demo's churn model last ran
CHURN_SCORED_BEFORE = timedelta(hours=3)
EVENTS_COLUMNS: tuple[tuple[str, str], ...] = (
    ("external_id", "VARCHAR"),
    ("event_name", "VARCHAR"),
    ("occurred_at", "TIMESTAMP"),
    ("platform", "VARCHAR"),
    ("properties", "JSON"),
)
PURCHASES_COLUMNS: tuple[tuple[str, str], ...] = (
    ("external_id", "VARCHAR"),
    ("purchased_at", "TIMESTAMP"),
    ("product_id", "VARCHAR"),
    ("price", "DOUBLE"),
    ("quantity", "BIGINT"),
    ("properties", "JSON"),
)
PRODUCTS_COLUMNS: tuple[tuple[str, str], ...] = (
    ("product_id", "VARCHAR"),
    ("category", "VARCHAR"),
    ("brand", "VARCHAR"),
    ("list_price", "DOUBLE"),
)

EVENT_NAMES = (
    "app_open",
    "product_viewed",
    "product_searched",
    "add_to_cart",
    "checkout_started",
    "cart_emptied",
    "wishlist_added",
    "push_opened",
    "email_clicked",
)
CATEGORIES = ("sneakers", "running", "outdoor", "fashion", "tech", "beauty", "home")
_CATEGORY_WEIGHTS = (30, 22, 14, 16, 10, 6, 8)  # how often a user is interested in each

# fmt: off
# Catalog: products per category (200 in all), brands, and median list price.
_CATALOG = {
    "sneakers": (40, ("Nike", "Adidas", "New Balance", "Converse", "Vans"), 110.0),
    "running": (30, ("Asics", "Hoka", "Brooks", "Nike", "Saucony"), 130.0),
    "outdoor": (25, ("Patagonia", "The North Face", "Arc'teryx", "Columbia"), 170.0),
    "fashion": (35, ("Uniqlo", "Zara", "COS", "Levi's"), 45.0),
    "tech": (25, ("Apple", "Samsung", "Sony", "Anker"), 150.0),
    "beauty": (25, ("Innisfree", "Sulwhasoo", "L'Oréal", "The Ordinary"), 28.0),
    "home": (20, ("IKEA", "Muji", "Dyson", "Le Creuset"), 70.0),
}
_SEARCH_QUERIES = {
    "sneakers": ("Nike Sneakers", "nike sneakers", "SNEAKERS sale", "air max", "Samba"),
    "running": ("running shoes", "Running Shoes", "trail running", "marathon", "hoka clifton"),
    "outdoor": ("rain jacket", "hiking boots", "tent", "Down Jacket"),
    "fashion": ("linen shirt", "jeans", "Oversized Hoodie", "summer dress"),
    "tech": ("wireless earbuds", "iPhone case", "power bank", "Noise Cancelling Headphones"),
    "beauty": ("sunscreen", "serum", "Cushion Foundation", "lip tint"),
    "home": ("desk lamp", "air purifier", "Storage Box", "dutch oven"),
}

# country: (weight, UTC offset hours, email domains with weights, cities (name, lat, lon, weight))
_City = tuple[str, float, float, float]  # name, lat, lon, weight
_COUNTRIES: dict[str, tuple[float, float, tuple[tuple[str, float], ...], tuple[_City, ...]]] = {
    "KR": (28, 9, (("naver.com", 40), ("gmail.com", 35), ("daum.net", 15), ("kakao.com", 10)),
           (("Seoul", 37.5665, 126.9780, 6), ("Busan", 35.1796, 129.0756, 2),
            ("Incheon", 37.4563, 126.7052, 1.5), ("Daegu", 35.8714, 128.6014, 1))),
    "JP": (14, 9, (("gmail.com", 45), ("yahoo.co.jp", 35), ("docomo.ne.jp", 20)),
           (("Tokyo", 35.6762, 139.6503, 5), ("Osaka", 34.6937, 135.5023, 2),
            ("Yokohama", 35.4437, 139.6380, 1.5), ("Fukuoka", 33.5904, 130.4017, 1))),
    "US": (20, -5, (("gmail.com", 50), ("yahoo.com", 20), ("outlook.com", 15), ("icloud.com", 15)),
           (("New York", 40.7128, -74.0060, 4), ("Los Angeles", 34.0522, -118.2437, 3),
            ("Chicago", 41.8781, -87.6298, 2), ("San Francisco", 37.7749, -122.4194, 1.5),
            ("Austin", 30.2672, -97.7431, 1))),
    "DE": (7, 1, (("gmx.de", 35), ("web.de", 30), ("gmail.com", 35)),
           (("Berlin", 52.5200, 13.4050, 3), ("Munich", 48.1351, 11.5820, 2),
            ("Hamburg", 53.5511, 9.9937, 1.5))),
    "FR": (6, 1, (("orange.fr", 35), ("gmail.com", 45), ("free.fr", 20)),
           (("Paris", 48.8566, 2.3522, 4), ("Lyon", 45.7640, 4.8357, 1),
            ("Marseille", 43.2965, 5.3698, 1))),
    "GB": (8, 0, (("gmail.com", 50), ("outlook.com", 25), ("btinternet.com", 25)),
           (("London", 51.5074, -0.1278, 4), ("Manchester", 53.4808, -2.2426, 1),
            ("Edinburgh", 55.9533, -3.1883, 0.7))),
    "BR": (5, -3, (("gmail.com", 60), ("hotmail.com", 25), ("uol.com.br", 15)),
           (("São Paulo", -23.5505, -46.6333, 3), ("Rio de Janeiro", -22.9068, -43.1729, 2))),
    "CA": (3, -5, (("gmail.com", 60), ("outlook.com", 40)),
           (("Toronto", 43.6532, -79.3832, 2), ("Vancouver", 49.2827, -123.1207, 1))),
    "AU": (3, 10, (("gmail.com", 60), ("outlook.com", 40)),
           (("Sydney", -33.8688, 151.2093, 2), ("Melbourne", -37.8136, 144.9631, 1.5))),
    "IN": (2, 5.5, (("gmail.com", 80), ("yahoo.in", 20)),
           (("Mumbai", 19.0760, 72.8777, 1), ("Bengaluru", 12.9716, 77.5946, 1))),
    "TW": (2, 8, (("gmail.com", 70), ("yahoo.com.tw", 30)), (("Taipei", 25.0330, 121.5654, 1),)),
    "SG": (2, 8, (("gmail.com", 70), ("outlook.com", 30)), (("Singapore", 1.3521, 103.8198, 1),)),
}
_FIRST_NAMES = {
    "KR": ("minji", "jisoo", "seojun", "hayoon", "doyun", "jiwoo", "yuna", "hyunwoo"),
    "JP": ("haruto", "yui", "sota", "hina", "ren", "sakura", "yuto", "aoi"),
    "BR": ("lucas", "ana", "gabriel", "julia", "pedro", "beatriz"),
}
_LAST_NAMES = {
    "KR": ("kim", "lee", "park", "choi", "jung", "kang"),
    "JP": ("sato", "suzuki", "takahashi", "tanaka", "ito", "watanabe"),
    "BR": ("silva", "santos", "oliveira", "souza", "costa"),
}
_DEFAULT_FIRST = ("emma", "liam", "olivia", "noah", "lukas", "mia", "lea", "hugo", "chloe",
                  "oliver", "amelia", "sofia", "arjun", "wei", "mei", "jack", "ava", "leon")
_DEFAULT_LAST = ("smith", "johnson", "garcia", "mueller", "schmidt", "martin", "bernard", "jones",
                 "taylor", "brown", "patel", "chen", "wilson", "dubois", "fischer", "wang")
# Share of sessions that start in each local hour: quiet nights, lunch and evening peaks.
_HOUR_WEIGHTS = (2, 1, 1, 0.5, 0.5, 0.5, 1, 2, 4, 4, 4, 5, 7, 6, 5, 5, 5, 6, 7, 9, 10, 10, 8, 5)
# fmt: on
_APP_VERSIONS = ("5.8.0", "5.9.1", "6.0.0", "6.0.2", "6.1.0")
_REFERRERS = ("google", "direct", "instagram", "newsletter", "naver")
_COUPONS = ("WELCOME10", "SPRING15", "FREESHIP", "VIP20", "BLACKFRIDAY")


def _cum(weights: tuple[float, ...] | list[float]) -> list[float]:
    """Cumulative weights for `Random.choices(cum_weights=...)` (faster than weights=)."""
    out, total = [], 0.0
    for w in weights:
        total += w
        out.append(total)
    return out


_COUNTRY_CODES = tuple(_COUNTRIES)
_COUNTRY_CUM = _cum([spec[0] for spec in _COUNTRIES.values()])
_HOUR_CUM = _cum(_HOUR_WEIGHTS)
_CATEGORY_CUM = _cum(_CATEGORY_WEIGHTS)


@dataclass(frozen=True)
class _Product:
    product_id: str
    category: str
    brand: str
    list_price: float


class _Generator:
    """Holds the one random stream and the caches of JSON text (most properties repeat)."""

    def __init__(self, users: int, seed: int, as_of: datetime) -> None:
        self.rng = random.Random(seed)
        self.n_users = users
        self.as_of = as_of
        self.as_of_s = int((as_of - _EPOCH).total_seconds())
        self.window_start = self.as_of_s - EVENT_WINDOW_DAYS * DAY
        self.products: list[_Product] = []
        self.by_category: dict[str, list[_Product]] = {}
        self.expensive: list[_Product] = []
        self.events: list[tuple[Any, ...]] = []  # (seconds, external_id, name, platform, properties)
        self.purchases: list[tuple[Any, ...]] = []  # (seconds, external_id, product, price, qty, properties)
        self.users: list[tuple[Any, ...]] = []
        self._json: dict[tuple[Any, ...], str] = {}

    # -- helpers ---------------------------------------------------------------------------

    def js(self, key: tuple[Any, ...], value: object) -> str:
        """JSON text for `value`, cached under `key`: json.dumps is the slow part otherwise."""
        text = self._json.get(key)
        if text is None:
            text = self._json[key] = json.dumps(value)
        return text

    def pick_category(self, interests: list[str] | None) -> str:
        """Users mostly browse what they said they like, sometimes anything."""
        rng = self.rng
        if interests and rng.random() < 0.75:
            return interests[int(rng.random() * len(interests))]
        return rng.choices(CATEGORIES, cum_weights=_CATEGORY_CUM)[0]

    # -- tables ----------------------------------------------------------------------------

    def make_products(self) -> None:
        rng = self.rng
        categories = [c for c, (count, _, _) in _CATALOG.items() for _ in range(count)]
        rng.shuffle(categories)
        for i, category in enumerate(categories, start=1):
            _, brands, median = _CATALOG[category]
            price = float(max(5, round(median * math.exp(rng.gauss(0.0, 0.45)))))
            product = _Product(
                f"p{i:04d}", category, brands[int(rng.random() * len(brands))], price
            )
            self.products.append(product)
            self.by_category.setdefault(category, []).append(product)
        self.expensive = [p for p in self.products if p.list_price >= 150]

    def make_people(self) -> None:
        """Users of the users table, plus ids seen only in events or only in purchases."""
        rng = self.rng
        n_ghosts = round(self.n_users * 0.03)  # in events (and maybe purchases), not in users
        n_offline = self.n_users // 1000  # store purchases only: in purchases, nowhere else
        total = self.n_users + n_ghosts + n_offline
        width = max(5, len(str(total)))
        special = rng.sample(range(total), n_ghosts + n_offline)
        role = ["user"] * total
        for i in special[:n_ghosts]:
            role[i] = "ghost"
        for i in special[n_ghosts:]:
            role[i] = "offline"
        future_users = set(rng.sample(range(total), min(total, max(1, self.n_users // 200))))
        for i in range(total):
            ext_id = f"u{i + 1:0{width}d}"
            if role[i] == "offline":
                self.offline_person(ext_id)
            else:
                self.person(ext_id, in_users=role[i] == "user", extra_future=i in future_users)

    def offline_person(self, ext_id: str) -> None:
        """A loyalty-card shopper: a few in-store purchases, no app, no user row."""
        rng = self.rng
        for _ in range(1 + int(rng.random() * 3)):
            t = self.window_start + int(rng.random() * (EVENT_WINDOW_DAYS * DAY - 3600))
            product = self.products[int(rng.random() * len(self.products))]
            props = self.js(("store",), {"channel": "store"})
            self.purchases.append((t, ext_id, product.product_id, product.list_price, 1, props))

    def person(self, ext_id: str, *, in_users: bool, extra_future: bool) -> None:
        rng = self.rng
        as_of_s = self.as_of_s

        # Who they are.
        r = rng.random()
        if r < 0.03:
            country: str | None = None
        elif r < 0.036:
            country = ""
        else:
            country = rng.choices(_COUNTRY_CODES, cum_weights=_COUNTRY_CUM)[0]
        home = country or rng.choices(_COUNTRY_CODES, cum_weights=_COUNTRY_CUM)[0]
        _, offset_h, domains, cities = _COUNTRIES[home]
        city = rng.choices(cities, weights=[c[3] for c in cities])[0]
        age = None if rng.random() < 0.05 else float(min(85, max(14, round(rng.gauss(33, 10)))))
        r = rng.random()
        is_vip: bool | None = None if r < 0.03 else r < 0.11
        whale = rng.random() < (0.15 if is_vip else 0.012)
        interests = self.interests()

        # Lifecycle: signup, optional churn, and the span with behaviour in the window.
        if in_users:
            signup_s: int | None = as_of_s - int(SIGNUP_WINDOW_DAYS * DAY * rng.random() ** 1.3)
            if rng.random() < 0.01:
                signup_s = None
        else:
            signup_s = as_of_s - int(EVENT_WINDOW_DAYS * DAY * rng.random())
        start = max(signup_s or 0, self.window_start)
        end = as_of_s
        if rng.random() < 0.4:  # churned at some point since signup
            born = signup_s if signup_s is not None else self.window_start
            end = born + int((as_of_s - born) * rng.random())
        activity = rng.lognormvariate(1.85, 1.1) * (3.0 if whale else 1.0)
        span = end - 3600 - start
        n_sessions = 0
        if span > 0:
            n_sessions = int(activity * span / (EVENT_WINDOW_DAYS * DAY) * 1.5 + rng.random())
        if not in_users and n_sessions == 0:  # a ghost is by definition seen in events
            span = max(span, DAY)
            start = min(start, as_of_s - span - 3600)
            n_sessions = 1

        platform = rng.choices(("ios", "android", "web"), cum_weights=(40, 80, 100))[0]
        cart_p = 0.32 * (2.2 if whale else 1.0) * (0.4 + 1.2 * rng.random())
        buy_p = 0.5 + 0.45 * rng.random()
        offset_s = int(offset_h * 3600)
        times: list[int] = []
        for _ in range(min(n_sessions, 2000)):
            day = (start + int(rng.random() * span)) // DAY
            hour = rng.choices(range(24), cum_weights=_HOUR_CUM)[0]
            t = day * DAY + hour * 3600 + int(rng.random() * 3600) - offset_s
            if not start <= t <= start + span:
                t = start + int(rng.random() * span)
            times.append(t)
        n_future = sum(1 for _ in times if rng.random() < 0.005) + (1 if extra_future else 0)
        times.sort()
        times += sorted(
            as_of_s + 60 + int(rng.random() * FUTURE_WINDOW_DAYS * DAY) for _ in range(n_future)
        )

        spend = 0.0
        last_open = None
        for t in times:
            session_platform = (
                platform if rng.random() < 0.85 else rng.choice(("ios", "android", "web"))
            )
            opened, spent = self.session(
                ext_id, t, session_platform, interests, cart_p, buy_p, whale, bool(is_vip)
            )
            if opened <= as_of_s:
                last_open = opened
                spend += spent
        if not in_users:
            return

        # Attributes that follow from behaviour.
        if last_open is None:  # no visit in the window: last seen some time before it ended
            born = signup_s if signup_s is not None else self.window_start - 365 * DAY
            if end - 3600 > born:
                last_open = born + int(rng.random() * (end - 3600 - born))
        last_seen_ms = None
        if last_open is not None and rng.random() >= 0.02:
            last_seen_ms = last_open * 1000 + int(rng.random() * 1000)
        location = self.location(city) if rng.random() >= 0.08 else (None, None)
        membership = None
        if rng.random() < (0.8 if is_vip else 0.25):
            membership = as_of_s + int((rng.random() * 485 - 120) * DAY)
        self.users.append(
            (
                ext_id,
                country,
                age,
                is_vip,
                _ts(signup_s) if signup_s is not None else None,
                last_seen_ms,
                interests,
                self.profile(spend, bool(is_vip), home, city[0]),
                self.email(home, domains),
                location[0],
                location[1],
                _ts(membership) if membership is not None else None,
            )
        )

    def interests(self) -> list[str] | None:
        rng = self.rng
        r = rng.random()
        if r < 0.08:
            return None
        if r < 0.18:
            return []
        k = rng.choices((1, 2, 3), cum_weights=(50, 85, 100))[0]
        chosen: list[str] = []
        while len(chosen) < k:
            c = rng.choices(CATEGORIES, cum_weights=_CATEGORY_CUM)[0]
            if c not in chosen:
                chosen.append(c)
        return [c for c in CATEGORIES if c in chosen]

    def location(self, city: tuple[str, float, float, float]) -> tuple[float, float]:
        """Last known position: mostly in town, some in the suburbs, a few elsewhere."""
        rng = self.rng
        r = rng.random()
        sigma = 0.04 if r < 0.7 else 0.2 if r < 0.95 else 1.5
        lat = max(-89.9, min(89.9, city[1] + rng.gauss(0, sigma)))
        lon = city[2] + rng.gauss(0, sigma)
        lon = (lon + 180) % 360 - 180
        return round(lat, 5), round(lon, 5)

    def profile(self, spend: float, is_vip: bool, home: str, city: str) -> str | None:
        rng = self.rng
        if rng.random() < 0.05:
            return None
        if rng.random() < 0.08:
            tier = rng.choice(("gold", "silver", "bronze"))
        elif spend >= 600 or (is_vip and rng.random() < 0.3):
            tier = "gold"
        elif spend >= 150 or is_vip:
            tier = "silver"
        else:
            tier = "bronze"
        profile: dict[str, object] = {}
        if rng.random() >= 0.03:
            profile["tier"] = tier
        if rng.random() >= 0.05:
            profile["points"] = int(spend * 10) + int(rng.random() * 800)
        if rng.random() >= 0.12:
            profile["newsletter"] = rng.random() < 0.6
        if rng.random() >= 0.10:
            if rng.random() >= 0.15:
                address_city = city
            else:
                cities = _COUNTRIES[home][3]
                address_city = cities[int(rng.random() * len(cities))][0]
            address: dict[str, object] = {"city": address_city}
            if rng.random() < 0.3:
                address["country"] = home
            profile["address"] = address
        return json.dumps(profile)

    def email(self, home: str, domains: tuple[tuple[str, float], ...]) -> str | None:
        rng = self.rng
        r = rng.random()
        if r < 0.03:
            return None
        if r < 0.035:
            return ""
        if r < 0.04:
            return f"qa+{int(rng.random() * 10000)}@example.com"
        firsts = _FIRST_NAMES.get(home, _DEFAULT_FIRST)
        lasts = _LAST_NAMES.get(home, _DEFAULT_LAST)
        first = firsts[int(rng.random() * len(firsts))]
        last = lasts[int(rng.random() * len(lasts))]
        domain = rng.choices([d for d, _ in domains], weights=[w for _, w in domains])[0]
        sep = rng.choice((".", "_", ""))
        local = f"{first}{sep}{last}{int(rng.random() * 1000)}"
        address = f"{local}@{domain}"
        if rng.random() < 0.04:  # typed with capitals: case-insensitive regexes matter
            address = f"{first.capitalize()}{sep}{last.capitalize()}@{domain.capitalize()}"
        return address

    def session(
        self,
        ext_id: str,
        t: int,
        platform: str,
        interests: list[str] | None,
        cart_p: float,
        buy_p: float,
        whale: bool,
        vip: bool,
    ) -> tuple[int, float]:
        """One visit: open, search, view, maybe cart, check out, buy. Returns (opened, spent)."""
        rng = self.rng
        js = self.js
        events = self.events
        r = rng.random()
        if r < 0.07 and platform != "web":
            campaign = f"cmp_{int(rng.random() * 40):03d}"
            events.append(
                (
                    t,
                    ext_id,
                    "push_opened",
                    platform,
                    js(("push", campaign), {"campaign_id": campaign}),
                )
            )
            t += 2
        elif r < 0.11:
            campaign = f"cmp_{int(rng.random() * 40):03d}"
            events.append(
                (
                    t,
                    ext_id,
                    "email_clicked",
                    "web",
                    js(
                        ("mail", campaign),
                        {"campaign_id": campaign, "link": "https://shop.example/deals"},
                    ),
                )
            )
            platform = "web"
            t += 5
        if platform == "web":
            ref = _REFERRERS[int(rng.random() * len(_REFERRERS))]
            props = js(("web", ref), {"referrer": ref})
        else:
            version = _APP_VERSIONS[min(len(_APP_VERSIONS) - 1, int(rng.random() * 6))]
            props = js(("app", version), {"app_version": version})
        opened = t
        events.append((t, ext_id, "app_open", platform, props))

        category = self.pick_category(interests)
        pool = self.expensive if whale and rng.random() < 0.5 else self.by_category[category]
        if rng.random() < 0.35:
            queries = _SEARCH_QUERIES[category]
            for _ in range(1 + (rng.random() < 0.3)):
                t += 5 + int(rng.random() * 40)
                q = queries[int(rng.random() * len(queries))]
                events.append((t, ext_id, "product_searched", platform, js(("q", q), {"query": q})))
        n_views = 1 + min(12, int(rng.expovariate(0.6)))
        if rng.random() < 0.15:
            n_views = 0  # opened the app and left
        viewed: list[_Product] = []
        for _ in range(n_views):
            t += 10 + int(rng.random() * 90)
            p = pool[int(rng.random() * len(pool))]
            viewed.append(p)
            events.append(
                (
                    t,
                    ext_id,
                    "product_viewed",
                    platform,
                    js(
                        ("v", p.product_id),
                        {
                            "product_id": p.product_id,
                            "category": p.category,
                            "brand": p.brand,
                            "price": p.list_price,
                        },
                    ),
                )
            )
        if viewed and rng.random() < 0.06:
            p = viewed[-1]
            t += 3
            events.append(
                (
                    t,
                    ext_id,
                    "wishlist_added",
                    platform,
                    js(("w", p.product_id), {"product_id": p.product_id}),
                )
            )
        if not viewed or rng.random() >= cart_p:
            return opened, 0.0

        cart: list[tuple[_Product, int]] = []
        for p in viewed[-(1 + (rng.random() < 0.3)) :]:
            if whale:
                qty = 1 + int(rng.random() * 4)
            else:
                qty = 1 if rng.random() < 0.82 else 2 if rng.random() < 0.8 else 3
            t += 5 + int(rng.random() * 60)
            cart.append((p, qty))
            events.append(
                (
                    t,
                    ext_id,
                    "add_to_cart",
                    platform,
                    js(("c", p.product_id, qty), {"product_id": p.product_id, "quantity": qty}),
                )
            )
        if rng.random() >= 0.55:
            if rng.random() < 0.2:
                t += 30 + int(rng.random() * 600)
                events.append(
                    (
                        t,
                        ext_id,
                        "cart_emptied",
                        platform,
                        js(("e", len(cart)), {"items": len(cart)}),
                    )
                )
            return opened, 0.0
        t += 20 + int(rng.random() * 300)
        value = sum(p.list_price * q for p, q in cart)
        events.append(
            (
                t,
                ext_id,
                "checkout_started",
                platform,
                json.dumps({"cart_value": value, "items": len(cart)}),
            )
        )
        if rng.random() >= buy_p:
            return opened, 0.0
        t += 30 + int(rng.random() * 240)
        channel = "web" if platform == "web" else "app"
        coupon = None
        if rng.random() < 0.15:
            coupon = "VIP20" if vip and rng.random() < 0.5 else _COUPONS[int(rng.random() * 4)]
        props_value: dict[str, str] = {"channel": channel}
        if coupon:
            props_value["coupon"] = coupon
        props = js(("p", channel, coupon), props_value)
        spent = 0.0
        for p, qty in cart:
            # Multiples of 0.5 are exact in binary, so sums agree on every engine.
            price = p.list_price if coupon is None else max(1.0, round(p.list_price * 1.7) / 2)
            self.purchases.append((t, ext_id, p.product_id, price, qty, props))
            spent += price * qty
        return opened, spent


def _ts(seconds: int) -> datetime:
    return _EPOCH + timedelta(seconds=seconds)


def generate_demo(
    users: int = 5000, seed: int = 42, as_of: datetime | None = None
) -> list[DemoTable]:
    """Build the demo tables: users, events, purchases, products and churn_scores.

    The same (users, seed, as_of) always gives identical tables. `as_of` (naive UTC;
    an aware datetime is converted) defaults to DEFAULT_AS_OF so the data is stable.
    """
    if users < 0:
        raise ValueError(f"users must be >= 0, got {users}")
    if as_of is None:
        as_of = DEFAULT_AS_OF
    elif as_of.tzinfo is not None:
        as_of = as_of.astimezone(UTC).replace(tzinfo=None)
    gen = _Generator(users, seed, as_of.replace(microsecond=0))
    gen.make_products()
    gen.make_people()

    gen.events.sort(key=_first)
    gen.purchases.sort(key=_first)
    events = [(e, name, _ts(t), platform, props) for t, e, name, platform, props in gen.events]
    purchases = [(e, _ts(t), p, price, qty, props) for t, e, p, price, qty, props in gen.purchases]
    products = [(p.product_id, p.category, p.brand, p.list_price) for p in gen.products]
    users_rows, churn = _consent_and_churn(gen.users, seed, gen.as_of)
    return [
        DemoTable("users", USERS_COLUMNS, users_rows),
        DemoTable("events", EVENTS_COLUMNS, events),
        DemoTable("purchases", PURCHASES_COLUMNS, purchases),
        DemoTable("products", PRODUCTS_COLUMNS, products),
        DemoTable("churn_scores", CHURN_COLUMNS, churn),
    ]


def _consent_and_churn(users: list[tuple[Any, ...]], seed: int, as_of: datetime) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Each user row with its email opt-in, and the churn model's scores.

    Drawn from a stream of their own after the story is generated, so the other tables are
    exactly what they were before these columns existed. The score grows with the days since
    the user last opened the app (plus noise); about 8% of users were never scored, and every
    score is dated a few hours before as_of, so a run right after `seed` finds it fresh."""
    rng = random.Random(seed * 7919 + 17)
    scored_at = as_of - CHURN_SCORED_BEFORE
    as_of_ms = (as_of - _EPOCH).total_seconds() * 1000
    out, churn = [], []
    for row in users:
        email = row[8]
        opt_in = None if email is None else (None if rng.random() < 0.03 else rng.random() < 0.7)
        out.append((*row, opt_in))
        if rng.random() < 0.08:
            continue
        last_seen_ms = row[5]
        idle_days = 365.0 if last_seen_ms is None else max(0.0, (as_of_ms - last_seen_ms) / 86_400_000)
        score = min(1.0, max(0.0, 1 - math.exp(-idle_days / 120) + rng.gauss(0.0, 0.08)))
        band = "high" if score >= 0.7 else "medium" if score >= 0.4 else "low"
        churn.append((row[0], round(score, 3), band, scored_at))
    return out, churn


def _first(row: tuple[Any, ...]) -> int:
    return int(row[0])
