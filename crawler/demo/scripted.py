"""Two demo sites that plain HTTP cannot crawl: their pages need a browser (`render = True`).

- yunxi, a district portal whose list and article pages are empty shells that a script fills
  from a JSON API (the `/api/cms/...` shape of the CMSs behind many such portals);
- yjj, a provincial drug administration behind a cookie challenge modelled on a common
  anti-crawler product on government sites: a request without the right cookies gets a 412
  page that carries a seed (`<meta r='m'>`, `$_ts`), sets a cookie ending in S and loads a
  script; the script computes a second cookie (ending in T) from the seed, the S cookie and
  the browser's user agent, then reloads the page, which the server now serves.

They plug into the demo server through `reply(path, headers)`, which sees the request's
headers and sets response headers (cookies, content types); `demo_sites` registers them.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

from crawler.demo.sites import PER_PAGE, DemoSite

JSON = "application/json;charset=UTF-8"
HTML = "text/html; charset=utf-8"


@dataclass(frozen=True)
class ScriptedPortal(DemoSite):
    """List and article pages are shells; a script draws them from `/api/cms/article/...`."""

    def reply(self, path: str, headers) -> tuple[int, str, bytes, dict]:
        if path.startswith("/api/cms/article/"):
            status, data = self.api(path)
            return status, JSON, json.dumps(data, ensure_ascii=False).encode(), {}
        status, body = self.respond(path)
        return status, "text/plain" if path == "/robots.txt" else self.content_type, body, {}

    def api(self, path: str) -> tuple[int, dict]:
        query = dict(re.findall(r"(\w+)=([^&]*)", path.partition("?")[2]))
        if path.startswith("/api/cms/article/list"):
            number, size = int(query.get("pageNo", 1)), int(query.get("pageSize", PER_PAGE))
            chunk = self.articles[(number - 1) * size: number * size]
            items = [{"id": int(a.slug), "title": a.title, "linkUrl": self.url_of(a), "source": a.source,
                      "publishTime": a.day.strftime("%Y-%m-%d %H:%M:%S")} for a in chunk]
            return 200, _ok({"total": len(self.articles), "pageNo": number, "pageSize": size, "list": items})
        article = next((a for a in self.articles if a.slug == query.get("id")), None)
        if article is None:
            return 404, {"code": 404, "msg": "文章不存在", "data": None}
        content = "".join(f'<p style="text-indent:2em">{p}</p>' for p in article.paragraphs)
        return 200, _ok({"id": int(article.slug), "title": article.title, "source": article.source,
                         "publishTime": article.day.strftime("%Y-%m-%d %H:%M:%S"), "content": content})

    def list_page(self, n: int) -> bytes | None:
        if not self.articles[(n - 1) * PER_PAGE: n * PER_PAGE]:
            return None
        content = self.template("list").substitute(page_no=n, page_size=PER_PAGE)
        return self.page("云溪要闻", content)

    def article_page(self, article) -> bytes:
        return self.page("云溪要闻", self.template("article").substitute(article_id=article.slug))


def _ok(data: dict) -> dict:
    return {"code": 200, "msg": "操作成功", "data": data}


# --- the cookie challenge ----------------------------------------------------------------------
COOKIE = "Kq7vPzR3mYwN"  # the product names its cookies per site: NAME + "S" (seed), NAME + "T" (answer)
CHALLENGE_SCRIPT = "/7aKf0Rq2x5Wm/Hb3sLp.b8e61c4.js"
# What the challenge script computes (FNV-1a, 32 bits, over seed|S|user agent): the server
# checks the T cookie with the same function.
_SCRIPT = """\
(function(){var _$a=function(s){var h=0x811c9dc5;for(var i=0;i<s.length;i++){h^=s.charCodeAt(i);\
h=Math.imul(h,0x01000193)>>>0;}return('0000000'+h.toString(16)).slice(-8);};\
window._$kQ=function(){var m=document.getElementsByTagName('meta'),c='';for(var i=0;i<m.length;i++)\
{if(m[i].getAttribute('r')==='m'){c=m[i].getAttribute('content');}}var k=document.cookie.match(/NAMES=([^;]+)/);\
if(!k||!c)return;var t='0'+_$a(c+'|'+k[1]+'|'+navigator.userAgent);document.cookie='enable_NAME=true; path=/';\
document.cookie='NAMET='+t+'; path=/';location.reload();};})();
""".replace("NAME", COOKIE)
_CHALLENGE = (
    '<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
    '<meta http-equiv="Pragma" content="no-cache"><meta http-equiv="Cache-Control" content="no-store, must-revalidate">'
    '<meta http-equiv="Expires" content="0"><meta id="Yc3kQz8Rv1pA" content="SEED" r=\'m\'>'
    "<script type=\"text/javascript\" r='m'>$_ts=window['$_ts'];if(!$_ts)$_ts={};$_ts.nsd=52206;"
    '$_ts.cd="CD";</script><script type="text/javascript" charset="utf-8" src="SCRIPT" r=\'m\'></script>'
    "</head><body></body></html><script type=\"text/javascript\" r='m'>_$kQ();</script>"
)


def fnv1a(text: str) -> str:
    value = 0x811C9DC5
    for unit in _utf16_units(text):
        value = ((value ^ unit) * 0x01000193) & 0xFFFFFFFF
    return f"{value:08x}"


def _utf16_units(text: str) -> list[int]:
    """What JavaScript's charCodeAt walks over: UTF-16 code units."""
    data = text.encode("utf-16-le")
    return [int.from_bytes(data[i:i + 2], "little") for i in range(0, len(data), 2)]


def _cookies(headers) -> dict[str, str]:
    pairs = (part.strip().partition("=") for part in (headers.get("Cookie") or "").split(";"))
    return {name: value for name, _, value in pairs if name}


@dataclass(frozen=True)
class ChallengedSite(DemoSite):
    """A plain site whose every page (robots.txt aside) first answers with the challenge."""

    def reply(self, path: str, headers) -> tuple[int, str, bytes, dict]:
        if path == CHALLENGE_SCRIPT:
            return 200, "application/javascript", _SCRIPT.encode(), {}
        if path == "/robots.txt" or self.passes(_cookies(headers), headers.get("User-Agent") or ""):
            status, body = self.respond(path)
            return status, "text/plain" if path == "/robots.txt" else self.content_type, body, {}
        seed_cookie = "6" + hashlib.sha1(path.encode()).hexdigest()[:30]
        body = (_CHALLENGE.replace("SEED", _seed(seed_cookie)).replace("CD", hashlib.sha256(path.encode()).hexdigest())
                .replace("SCRIPT", CHALLENGE_SCRIPT))
        return 412, HTML, body.encode(), {"Set-Cookie": f"{COOKIE}S={seed_cookie}; Path=/"}

    @staticmethod
    def passes(cookies: dict[str, str], user_agent: str) -> bool:
        seed_cookie, answer = cookies.get(f"{COOKIE}S"), cookies.get(f"{COOKIE}T")
        return bool(seed_cookie and answer) and answer == "0" + fnv1a(f"{_seed(seed_cookie)}|{seed_cookie}|{user_agent}")


def _seed(seed_cookie: str) -> str:
    return hashlib.md5(seed_cookie.encode()).hexdigest()


SCRIPTED_SITES = {
    site.name: site
    for site in (
        ScriptedPortal(
            name="yunxi", host="www.yunxi.gov.test", codec="utf-8", content_type=HTML, script="hans",
            first_list="/xwzx/qxyw/", list_path="/xwzx/qxyw/index_{n}.html",
            article_path="/xwzx/qxyw/content_{slug}.html", paragraph="", list_item="", date_format=None,
        ),
        ChallengedSite(
            name="yjj", host="www.yjj.gov.test", codec="utf-8", content_type=HTML, script="hans",
            first_list="/gzdt/", list_path="/gzdt/index_{n}.html", article_path="/gzdt/{ymd}/t{ymd}_{slug}.html",
            paragraph='<p style="text-indent: 2em;">{}</p>',
            list_item='<li><a href="{url}" target="_blank" title="{title}">{title}</a><span>{date}</span></li>',
            date_format="%Y-%m-%d %H:%M",
        ),
    )
}
