"""The subscription pages under Starlette's TestClient, with the store on a real SQLite
file and the confirmation mail in the outbox: double opt-in (nothing active before the
link is used), the link's expiry and single use, forged links and a purpose swap, CSRF,
no enumeration, the rate limits (behind trusted proxies too), a GET that changes
nothing, the one-click POST, preferences, and an unsubscribe that wins over the config
and survives its reload."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from httpx import Response
from starlette.testclient import TestClient

from digests.tokens import MANAGE, UNSUBSCRIBE, make_token
from pipeline.settings import load_settings
from pipeline.status import status_data
from pipeline.store import Store
from pipeline.subscriptions import readers
from smtp_support import free_port
from subscribe_support import (
    BASE_URL,
    CONFIG_READER,
    Ticks,
    app_with_limits,
    confirm,
    csrf_of,
    form,
    link_in,
    outbox,
    path_of,
    subscribe,
    subscribe_config,
    web_client,
)
from web_support import ADMIN_ENV, ADMIN_TOKEN, NOW, SECRET, Clock

pytestmark = pytest.mark.both_databases  # each test on SQLite and on PostgreSQL


@pytest.fixture(autouse=True)
def _each_database(configured_database: str) -> None:
    """The app and the test's store open ``settings.database``: the SQLite file, or on
    PostgreSQL a fresh database named by ``$TRENDWATCH_DATABASE_URL``."""


KEY = SECRET.encode()


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return subscribe_config(tmp_path)


def reader_emails(config: Path) -> list[str]:
    settings = load_settings(config)
    with Store(settings.database) as store:
        return [s.email for s in readers(settings, store.subscriber_records())]


def main_text(response: Response) -> str:
    """The page's <main>, without tags and runs of blanks."""
    main = response.text.split("<main>", 1)[-1].split("</main>", 1)[0]
    return " ".join(re.sub(r"<[^>]+>", " ", main).split())


def assert_token_page(response: Response) -> None:
    assert response.headers["x-robots-tag"] == "noindex"
    assert response.headers["cache-control"] == "no-store"
    assert '<meta name="robots" content="noindex">' in response.text


# --- the form and double opt-in ---------------------------------------------------------


def test_the_form_offers_the_configs_watchlists_weekdays_and_a_consent_line(
    config: Path,
) -> None:
    with web_client(app_with_limits(config)) as web:
        page = web.get("/subscribe?lang=en")
    assert page.status_code == 200
    for field in ('name="email"', 'name="name"', 'name="language"', 'name="weekday"'):
        assert field in page.text
    assert 'value="thuiswerken"' in page.text and 'value="banen"' in page.text
    assert ">Friday</option>" in page.text and 'value="0" selected' in page.text  # mon
    assert 'name="consent" value="yes" required' in page.text
    assert "I agree that Trendwatch Werk keeps my e-mail address" in page.text
    assert 'name="csrf"' in page.text


def test_nothing_is_active_before_the_link_from_the_mail_is_confirmed(config: Path) -> None:
    with web_client(app_with_limits(config)) as web:
        sent = subscribe(web, "Anne@Example.nl", watchlists=["banen", "thuiswerken"])
        assert sent.status_code == 200
        assert "We hebben een mail gestuurd naar Anne@example.nl" in main_text(sent)
        [mail] = outbox(config)
        assert mail["To"] == "Anne <Anne@example.nl>"
        assert mail["Subject"] == "Bevestig je aanmelding voor Trendwatch Werk"
        assert mail["Auto-Submitted"] == "auto-generated" and "List-Unsubscribe" not in mail
        link = link_in(mail, "confirm")
        assert link.startswith(f"{BASE_URL}/confirm/v3.")
        assert reader_emails(config) == [CONFIG_READER]
        page = web.get(path_of(link))  # a mail scanner opens it: nothing happens
        web.get(path_of(link))
        assert page.status_code == 200 and "Bevestig dat Anne@example.nl" in main_text(page)
        assert "Onderwerpen: Thuiswerken, Banen" in main_text(page)
        assert_token_page(page)
        assert reader_emails(config) == [CONFIG_READER]
        done = web.post(path_of(link), data={"csrf": csrf_of(page.text)})
    assert done.status_code == 200 and "Je aanmelding is bevestigd" in main_text(done)
    assert "Je eerste mail komt op vrijdag rond 07:00" in main_text(done)
    assert_token_page(done)
    assert reader_emails(config) == [CONFIG_READER, "Anne@example.nl"]
    settings = load_settings(config)
    with Store(settings.database) as store:
        record = store.subscriber_record("anne@example.nl")
    assert record is not None and record.watchlists == ("thuiswerken", "banen")
    assert record.consent and record.consent.startswith("Ik ga ermee akkoord")


def test_form_errors_keep_what_was_typed_and_store_and_send_nothing(config: Path) -> None:
    with web_client(app_with_limits(config)) as web:
        cases = [
            form("not an address"),
            form("anne@example.nl", watchlists=[]),
            form("anne@example.nl", watchlists=["geheim"]),
            form("anne@example.nl", consent=""),
            form("anne@example.nl", language="de"),
            form("anne@example.nl", weekday="7"),
            form("anne@example.nl", name="x" * 201),
            form("a" * 250 + "@example.nl"),
        ]
        for data in cases:
            page = web.get("/subscribe")
            answer = web.post("/subscribe", data={"csrf": csrf_of(page.text), **data})
            assert answer.status_code == 400, data
            assert "Controleer de velden hieronder" in answer.text
        assert 'value="a' in answer.text  # the address typed is kept
    assert outbox(config) == []
    with Store(load_settings(config).database) as store:
        assert store.open_request_count(NOW) == 0


# --- links: expiry, single use, forgery, purpose --------------------------------------


def test_a_confirmation_link_expires_after_3_days(config: Path) -> None:
    clock = Clock()
    with web_client(app_with_limits(config, clock)) as web:
        subscribe(web, "anne@example.nl")
        subscribe(web, "piet@example.nl")
        anne, piet = (link_in(m, "confirm") for m in outbox(config))
        clock.advance(timedelta(days=3) - timedelta(seconds=1))
        assert confirm(web, anne).status_code == 200  # just in time
        clock.advance(timedelta(seconds=1))
        expired = web.get(path_of(piet))
        assert expired.status_code == 410 and "Deze link is verlopen" in main_text(expired)
        assert_token_page(expired)
        late = web.post(path_of(piet), data={"csrf": csrf_of(web.get("/subscribe").text)})
        assert late.status_code == 410
    assert reader_emails(config) == [CONFIG_READER, "anne@example.nl"]


def test_a_confirmation_link_works_once_and_a_newer_mail_replaces_it(config: Path) -> None:
    with web_client(app_with_limits(config)) as web:
        subscribe(web, "anne@example.nl")
        subscribe(web, "anne@example.nl", watchlists=["banen"])
        first, second = (link_in(m, "confirm") for m in outbox(config))
        replaced = web.get(path_of(first))
        assert replaced.status_code == 410 and "al gebruikt" in main_text(replaced)
        assert confirm(web, second).status_code == 200
        again = web.get(path_of(second))
        assert again.status_code == 410 and "al gebruikt" in main_text(again)
        reused = web.post(path_of(second), data={"csrf": csrf_of(web.get("/subscribe").text)})
        assert reused.status_code == 410
    with Store(load_settings(config).database) as store:
        record = store.subscriber_record("anne@example.nl")
    assert record is not None and record.watchlists == ("banen",)


def forgeries(token: str) -> list[str]:
    flipped = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
    parts = token.split(".")
    return [
        flipped,
        ".".join(parts[:-1]),
        token + "x",
        "v3.AAAAAAAAAAAAAAAAAAAAAAAA.0.AAAA",
        "v2.QUFBQUFBQUFBQUFB." + "A" * 43,  # an id of nobody
        "garbage",
        "%3Cscript%3E",
        "x" * 2000,
    ]


def test_forged_links_get_a_clear_page_and_change_nothing(config: Path) -> None:
    with web_client(app_with_limits(config)) as web:
        subscribe(web, "anne@example.nl")
        confirm_token = path_of(link_in(outbox(config)[0], "confirm")).rsplit("/", 1)[1]
        unsubscribe_token = make_token(KEY, CONFIG_READER, UNSUBSCRIBE)
        manage_token = make_token(KEY, CONFIG_READER, MANAGE)
        csrf = csrf_of(web.get("/subscribe").text)
        for kind, token in (
            ("confirm", confirm_token),
            ("unsubscribe", unsubscribe_token),
            ("manage", manage_token),
        ):
            for bad in forgeries(token):
                for method in ("GET", "POST"):
                    answer = web.request(method, f"/{kind}/{bad}", data={"csrf": csrf})
                    assert answer.status_code == 404, (kind, bad, method)
                    assert "Deze link klopt niet" in main_text(answer)
                    assert_token_page(answer)
    assert reader_emails(config) == [CONFIG_READER]


def test_a_token_for_one_purpose_does_nothing_at_another(config: Path) -> None:
    with web_client(app_with_limits(config)) as web:
        subscribe(web, CONFIG_READER)
        confirm_link = path_of(link_in(outbox(config)[0], "confirm"))
        confirm_token = confirm_link.rsplit("/", 1)[1]
        unsubscribe_token = make_token(KEY, CONFIG_READER, UNSUBSCRIBE)
        manage_token = make_token(KEY, CONFIG_READER, MANAGE)
        csrf = csrf_of(web.get("/subscribe").text)
        for path in (
            f"/unsubscribe/{manage_token}",
            f"/unsubscribe/{confirm_token}",
            f"/manage/{unsubscribe_token}",
            f"/manage/{confirm_token}",
            f"/confirm/{unsubscribe_token}",
            f"/confirm/{manage_token}",
        ):
            for method in ("GET", "POST"):
                answer = web.request(method, path, data={"csrf": csrf})
                assert answer.status_code == 404, (path, method)
        assert web.get(f"/unsubscribe/{unsubscribe_token}").status_code == 200  # its own place
        assert web.get(confirm_link).status_code == 200  # still unused
    assert reader_emails(config) == [CONFIG_READER]


# --- CSRF, enumeration, rate limits ------------------------------------------------------


def test_forms_a_cookie_authorises_need_the_csrf_token(config: Path) -> None:
    with web_client(app_with_limits(config)) as web:
        web.get("/subscribe")  # a session cookie, but no token in the form
        refused = web.post("/subscribe", data=form("anne@example.nl"))
        assert refused.status_code == 403 and outbox(config) == []
        page = web.get("/subscribe")
        other_site = web.post(
            "/subscribe",
            data={"csrf": csrf_of(page.text), **form("anne@example.nl")},
            headers={"Origin": "https://evil.example"},
        )
        assert other_site.status_code == 403 and outbox(config) == []
        subscribe(web, "anne@example.nl")
        link = path_of(link_in(outbox(config)[0], "confirm"))
        assert web.post(link).status_code == 403  # confirming takes the form's token
        assert web.post(link, data={"csrf": "forged"}).status_code == 403
        assert confirm(web, link).status_code == 200
        manage = f"/manage/{make_token(KEY, 'anne@example.nl', MANAGE)}"
        changed = form("anne@example.nl", watchlists=["banen"])
        assert web.post(manage, data=changed).status_code == 403
        assert web.post(manage, data={"csrf": "forged", **changed}).status_code == 403
    with Store(load_settings(config).database) as store:
        record = store.subscriber_record("anne@example.nl")
    assert record is not None and record.watchlists == ("thuiswerken",)  # unchanged


def test_the_same_answer_whether_or_not_an_address_is_known(config: Path) -> None:
    """A config reader, a web reader, one who unsubscribed and a stranger: the same
    status, page and mail (but for the address itself)."""
    with web_client(app_with_limits(config)) as web:
        subscribe(web, "web@example.nl")
        confirm(web, link_in(outbox(config)[0], "confirm"))
        web.post(f"/unsubscribe/{make_token(KEY, 'gone@example.nl', UNSUBSCRIBE)}")
        subscribe(web, "gone@example.nl")
        confirm(web, link_in(outbox(config)[1], "confirm"))
        web.post(f"/unsubscribe/{make_token(KEY, 'gone@example.nl', UNSUBSCRIBE)}")
        before = len(outbox(config))
        answers = {}
        for address in (CONFIG_READER, "web@example.nl", "gone@example.nl", "nobody@example.nl"):
            answer = subscribe(web, address)
            answers[address] = (
                answer.status_code,
                main_text(answer).replace(address, "ADDRESS"),
                sorted((k, v) for k, v in answer.headers.items() if k != "content-length"),
            )
        mails = outbox(config)[before:]
    assert len({repr(a) for a in answers.values()}) == 1, answers
    assert [m["To"].addresses[0].addr_spec for m in mails] == list(answers)
    assert len({m["Subject"] for m in mails}) == 1


def test_subscribing_is_rate_limited_per_address(config: Path) -> None:
    ticks = Ticks()
    with web_client(app_with_limits(config, ticks=ticks)) as web:
        for _ in range(3):
            assert subscribe(web, "anne@example.nl").status_code == 200
        refused = subscribe(web, "ANNE@example.nl ")  # the same address, any case
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) == 3600
        assert "Te veel aanmeldingen" in refused.text
        assert subscribe(web, "piet@example.nl").status_code == 200  # another address
        ticks.now += 3600
        assert subscribe(web, "anne@example.nl").status_code == 200  # the hour is over
    assert len(outbox(config)) == 5


def test_subscribing_is_rate_limited_per_client_behind_trusted_proxies(tmp_path: Path) -> None:
    config = subscribe_config(tmp_path, rest='[web]\ntrusted_proxies = ["10.0.0.0/8"]\n')
    app = app_with_limits(config)
    proxy = TestClient(app, base_url=BASE_URL, client=("10.0.0.2", 4000))
    direct = TestClient(app, base_url=BASE_URL, client=("203.0.113.9", 4000))
    with proxy, direct:

        def post(web: TestClient, n: int, forwarded: str | None = None) -> int:
            headers = {"X-Forwarded-For": forwarded} if forwarded else {}
            page = web.get("/subscribe")
            data = {"csrf": csrf_of(page.text), **form(f"reader{n}@example.nl")}
            return web.post("/subscribe", data=data, headers=headers).status_code

        # behind the proxy: counted per address it saw, not per proxy
        assert [post(proxy, n, "198.51.100.1") for n in range(10)] == [200] * 10
        assert post(proxy, 10, "198.51.100.1") == 429
        assert post(proxy, 11, "198.51.100.2") == 200
        # straight from a client: its own address, whatever it claims to forward
        codes = [post(direct, 20 + n, f"192.0.2.{n}") for n in range(11)]
        assert codes == [200] * 10 + [429]


# --- unsubscribe, manage ------------------------------------------------------------------


def test_get_shows_a_button_and_the_one_click_post_unsubscribes_without_cookie(
    config: Path,
) -> None:
    token = make_token(KEY, CONFIG_READER, UNSUBSCRIBE)  # as in the digests already sent
    with web_client(app_with_limits(config)) as web:
        for _ in range(3):  # mail scanners, previews, the reader: nothing changes
            page = web.get(f"/unsubscribe/{token}")
            assert page.status_code == 200 and "Wil je lezer@example.org afmelden" in page.text
            assert_token_page(page)
        assert 'name="List-Unsubscribe" value="One-Click"' in page.text
        assert 'name="csrf"' not in page.text
        assert reader_emails(config) == [CONFIG_READER]
    with TestClient(app_with_limits(config), base_url=BASE_URL) as mail_client:
        done = mail_client.post(
            f"/unsubscribe/{token}",
            content=b"List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            follow_redirects=False,
        )
        again = mail_client.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and "location" not in done.headers
    assert "set-cookie" not in done.headers and "Je bent afgemeld" in main_text(done)
    assert again.status_code == 200 and "Je bent afgemeld" in main_text(again)
    assert reader_emails(config) == []


def test_an_unsubscribe_wins_over_the_config_and_a_reload_does_not_undo_it(
    config: Path,
) -> None:
    with web_client(app_with_limits(config)) as web:
        web.post(f"/unsubscribe/{make_token(KEY, CONFIG_READER, UNSUBSCRIBE)}")
        # the admin edits the config (the reader still in it); the app reloads it
        config.write_text(config.read_text("utf-8").replace("Trendwatch Werk", "Werk"), "utf-8")
        assert web.get("/").text.count("Werk") and "Trendwatch Werk" not in web.get("/").text
        old = web.get(f"/unsubscribe/{make_token(KEY, CONFIG_READER, UNSUBSCRIBE)}")
        assert old.status_code == 200 and "Je bent afgemeld" in main_text(old)
        manage = web.get(f"/manage/{make_token(KEY, CONFIG_READER, MANAGE)}")
        assert manage.status_code == 410 and "Je bent afgemeld" in main_text(manage)
    settings = load_settings(config)
    assert [s.email for s in settings.subscribers] == [CONFIG_READER]
    assert reader_emails(config) == []
    with Store(settings.database) as store:
        gone = status_data(settings, store, NOW)["subscribers"]
    assert gone["from_config"] == 0 and gone["unsubscribed"][0]["email"] == CONFIG_READER
    assert gone["unsubscribed"][0]["in_config"] is True


def test_an_old_link_does_not_unsubscribe_someone_who_subscribed_again(config: Path) -> None:
    old = f"/unsubscribe/{make_token(KEY, 'anne@example.nl', UNSUBSCRIBE)}"
    with web_client(app_with_limits(config)) as web:
        subscribe(web, "anne@example.nl")
        confirm(web, link_in(outbox(config)[0], "confirm"))
        assert web.post(old).status_code == 200
        subscribe(web, "anne@example.nl")
        back = confirm(web, link_in(outbox(config)[1], "confirm"))
        assert back.status_code == 200
        new_manage = re.search(r'href="(/manage/v3\.[^"]+)"', back.text)
        assert new_manage, back.text  # version 1 now
        stale = web.post(old)
        assert stale.status_code == 410 and "oudere mail" in main_text(stale)
        assert reader_emails(config) == [CONFIG_READER, "anne@example.nl"]
        page = web.get(new_manage[1])
        unsubscribe = re.search(r'action="(/unsubscribe/v3\.[^"]+)"', page.text)
        assert unsubscribe and web.post(unsubscribe[1]).status_code == 200
    assert reader_emails(config) == [CONFIG_READER]


def test_a_web_reader_changes_preferences_and_the_configs_are_read_only(config: Path) -> None:
    with web_client(app_with_limits(config)) as web:
        subscribe(web, "anne@example.nl")
        confirm(web, link_in(outbox(config)[0], "confirm"))
        manage = f"/manage/{make_token(KEY, 'anne@example.nl', MANAGE)}"
        page = web.get(manage)
        assert page.status_code == 200 and 'id="preferences"' in page.text
        assert_token_page(page)
        data = {
            "csrf": csrf_of(page.text),
            "name": "A. de Vries",
            "language": "en",
            "watchlists": ["banen", "thuiswerken"],
            "weekday": "2",
        }
        bad = web.post(manage, data={**data, "watchlists": []})
        assert bad.status_code == 400 and "Kies minstens één onderwerp" in bad.text
        saved = web.post(manage, data=data)
        assert saved.status_code == 200 and "Je keuzes zijn opgeslagen" in saved.text
        configs = web.get(f"/manage/{make_token(KEY, CONFIG_READER, MANAGE)}")
        assert configs.status_code == 200 and 'id="preferences"' not in configs.text
        assert (
            "instellingen van de beheerder" in configs.text and 'id="unsubscribe"' in configs.text
        )
    settings = load_settings(config)
    with Store(settings.database) as store:
        [_, anne] = readers(settings, store.subscriber_records())
    assert (anne.name, anne.language, anne.watchlists) == (
        "A. de Vries",
        "en",
        ("thuiswerken", "banen"),
    )
    assert settings.digest_time(anne).weekday == 2


# --- when mail cannot go out ---------------------------------------------------------------


def test_without_base_url_the_form_says_so_and_sends_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ADMIN_ENV, ADMIN_TOKEN)  # for a form with the session's token
    config = subscribe_config(
        tmp_path, base_url=None, rest=f'[web]\nadmin_token_env = "{ADMIN_ENV}"\n'
    )
    with TestClient(app_with_limits(config), base_url="http://127.0.0.1:8080") as web:
        page = web.get("/subscribe")
        assert "base_url" in page.text and 'name="email"' not in page.text
        token = csrf_of(web.get("/admin/login").text)  # the session's, from another form
        answer = web.post("/subscribe", data={"csrf": token, **form("anne@example.nl")})
        assert answer.status_code == 503 and "base_url" in answer.text
    assert outbox(config) == []


def test_a_confirmation_that_cannot_be_sent_says_so(tmp_path: Path) -> None:
    config = subscribe_config(tmp_path, smtp_port=free_port())  # nobody listens there
    with web_client(app_with_limits(config)) as web:
        answer = subscribe(web, "anne@example.nl")
    assert answer.status_code == 503
    assert "De bevestigingsmail kon nu niet worden verstuurd" in answer.text
    assert reader_emails(config) == [CONFIG_READER]
