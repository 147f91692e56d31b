#!/usr/bin/python3
"""Drives Debian's Chromium over the HTML report of a real scan and checks what the page shows
against the scan's own NDJSON: verdict counts, top-findings counts, the search box and filters,
a finding's endpoint list, one endpoint's detail view and, with --baseline, the diff view.
Prints one JSON object of what it checked; exits 1 with the reason on the first mismatch.

usage: dashboard_check.py PAGE NDJSON SCREENSHOT [--baseline OLD.ndjson] [--timing]
"""
import json
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

VERDICTS = ["fips-only", "fips-capable", "not-fips-capable"]


def fail(why):
    print(json.dumps({"ok": False, "why": why}))
    sys.exit(1)


def expect(cond, why):
    if not cond:
        fail(why)


def endpoints(path):
    with open(path) as f:
        return [e for e in (json.loads(line) for line in f if line.strip()) if e["type"] == "endpoint"]


def key(e):
    t = e["target"]
    return (t["host"], t.get("ip") or "", t["port"])


def address(e):
    t = e["target"]
    ip = t.get("ip") or t["host"]
    return ("[%s]" % ip if ":" in ip else ip) + ":%d" % t["port"]


def browser():
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for flag in ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1400,1000"]:
        opts.add_argument(flag)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)


def open_page(driver, page):
    started = time.monotonic()
    driver.get("file://" + page)
    WebDriverWait(driver, 60).until(lambda d: d.execute_script("return document.body.dataset.ready") == "1")
    return time.monotonic() - started


def listed(driver):
    """(host, port) of the endpoint rows drawn, after every "more"."""
    while True:
        more = driver.find_element(By.ID, "more")
        if not more.is_displayed():
            break
        more.click()
    return sorted((r.get_attribute("data-host"), int(r.get_attribute("data-port")))
                  for r in driver.find_elements(By.CSS_SELECTOR, "#endpoint-rows tr"))


def clear(driver):
    driver.find_element(By.ID, "f-clear").click()


def check(driver, page, ndjson, screenshot, baseline):
    seconds = open_page(driver, page)
    eps = endpoints(ndjson)
    policies = [v["policy"] for v in eps[0]["verdicts"]] if eps and eps[0]["verdicts"] else []
    checked = {"endpoints": len(eps), "render_seconds": round(seconds, 3)}

    # 1. Verdict counts per policy.
    for row in driver.find_elements(By.CSS_SELECTOR, "#verdict-counts tbody tr"):
        policy = row.get_attribute("data-policy")
        for cell in row.find_elements(By.CSS_SELECTOR, "td[data-verdict]"):
            verdict = cell.get_attribute("data-verdict")
            want = sum(1 for e in eps if any(v["policy"] == policy and v["verdict"] == verdict for v in e["verdicts"]))
            if verdict == "none":
                want = sum(1 for e in eps if not any(v["policy"] == policy for v in e["verdicts"]))
            expect(int(cell.get_attribute("data-count")) == want, "%s %s: page %s, ndjson %d" % (
                policy, verdict, cell.get_attribute("data-count"), want))

    # 2. Every top finding's count, and no finding missing.
    truth = {}
    for e in eps:
        for k in {(f["policy"], f["item"], f["verdict"]) for f in e["findings"] if f["verdict"] != "approved"}:
            truth.setdefault(k, []).append((e["target"]["host"], e["target"]["port"]))
    rows = driver.find_elements(By.CSS_SELECTOR, "#top-findings tbody tr[data-item]")
    seen = {}
    for r in rows:
        k = (r.get_attribute("data-policy"), r.get_attribute("data-item"), r.get_attribute("data-verdict"))
        seen[k] = int(r.get_attribute("data-count"))
    expect(seen == {k: len(v) for k, v in truth.items()}, "top findings differ: page %s, ndjson %s" % (
        seen, {k: len(v) for k, v in truth.items()}))
    counts = [int(r.get_attribute("data-count")) for r in rows]
    expect(counts == sorted(counts, reverse=True), "top findings are sorted by count")
    checked["top_findings"] = len(rows)

    # 3. A top finding lists exactly its endpoints.
    if rows:
        r = rows[-1]
        k = (r.get_attribute("data-policy"), r.get_attribute("data-item"), r.get_attribute("data-verdict"))
        r.click()
        expect(listed(driver) == sorted(truth[k]), "finding %s lists %s, ndjson %s" % (k, listed(driver), sorted(truth[k])))
        clear(driver)

    # 4. The whole list, then the search box, then the service and verdict filters.
    everyone = sorted((e["target"]["host"], e["target"]["port"]) for e in eps)
    expect(listed(driver) == everyone, "the unfiltered table lists every endpoint")
    probe = eps[len(eps) // 2]
    text = address(probe)
    box = driver.find_element(By.ID, "search")
    box.send_keys(text)
    want = sorted((e["target"]["host"], e["target"]["port"]) for e in eps
                  if text in (e["target"]["host"] + " " + address(e) + " %s:%d" % (e["target"]["host"], e["target"]["port"])))
    expect(listed(driver) == want, "search %r lists %s, expected %s" % (text, listed(driver), want))
    clear(driver)
    for service in sorted({e["service"] for e in eps}):
        Select(driver.find_element(By.ID, "f-service")).select_by_value(service)
        want = sorted((e["target"]["host"], e["target"]["port"]) for e in eps if e["service"] == service)
        expect(listed(driver) == want, "service %s lists %s, expected %s" % (service, listed(driver), want))
    clear(driver)
    for p, policy in enumerate(policies):
        Select(driver.find_element(By.ID, "f-policy")).select_by_value(str(p))
        for v, verdict in enumerate(VERDICTS):
            Select(driver.find_element(By.ID, "f-verdict")).select_by_value(str(v))
            want = sorted((e["target"]["host"], e["target"]["port"]) for e in eps
                          if any(x["policy"] == policy and x["verdict"] == verdict for x in e["verdicts"]))
            expect(listed(driver) == want, "%s %s lists %s, expected %s" % (policy, verdict, listed(driver), want))
    clear(driver)

    # 5. One endpoint's detail view, for a TLS and an SSH endpoint where there are.
    for proto in ("tls", "ssh"):
        e = next((e for e in eps if proto in e), None)
        if not e:
            continue
        driver.find_element(By.ID, "search").send_keys(address(e))
        driver.find_element(By.CSS_SELECTOR, '#endpoint-rows tr[data-port="%d"]' % e["target"]["port"]).click()
        box = driver.find_element(By.ID, "detail")
        expect(box.is_displayed(), "the detail view opens")
        shown = box.text
        if proto == "tls":
            words = [s["iana"] for v in e["tls"]["versions"] for s in v["cipher_suites"]]
            words += [g["name"] for g in e["tls"]["groups"]]
            words += [c["chain"][0]["sha256"] for c in e["tls"]["certificates"] if c["chain"]]
        else:
            words = e["ssh"]["kex"] + e["ssh"]["ciphers_server_to_client"]
            words += [k["fingerprint_sha256"] for k in e["ssh"]["host_keys"]]
        words += [f["item"] for f in e["findings"] if f["verdict"] != "approved"]
        missing = [w for w in words if w not in shown]
        expect(not missing, "the %s detail view lacks %s" % (proto, missing))
        checked["detail_" + proto] = len(words)
        clear(driver)

    # 6. The diff view against the baseline.
    if baseline:
        old = {key(e): e for e in endpoints(baseline)}
        new = {key(e): e for e in eps}
        rank = {v: n for n, v in enumerate(VERDICTS)}
        want = {"appeared": len(new.keys() - old.keys()), "vanished": len(old.keys() - new.keys()),
                "better": 0, "worse": 0}
        for k in new.keys() & old.keys():
            was = {v["policy"]: rank[v["verdict"]] for v in old[k]["verdicts"]}
            now = {v["policy"]: rank[v["verdict"]] for v in new[k]["verdicts"]}
            common = was.keys() & now.keys()
            up = any(now[p] < was[p] for p in common)
            down = any(now[p] > was[p] for p in common)
            if up and not down:
                want["better"] += 1
            if down and not up:
                want["worse"] += 1
        for change, n in want.items():
            cell = driver.find_element(By.CSS_SELECTOR, '#diff-counts tr[data-change="%s"]' % change)
            expect(int(cell.get_attribute("data-count")) == n, "diff %s: page %s, ndjson %d" % (
                change, cell.get_attribute("data-count"), n))
        appeared = {}
        fixed = {}
        for k in new.keys() & old.keys():
            was = {(f["policy"], f["item"], f["verdict"]) for f in old[k]["findings"] if f["verdict"] != "approved"}
            now = {(f["policy"], f["item"], f["verdict"]) for f in new[k]["findings"] if f["verdict"] != "approved"}
            for f in now - was:
                appeared[f] = appeared.get(f, 0) + 1
            for f in was - now:
                fixed[f] = fixed.get(f, 0) + 1
        page_moves = {}
        for r in driver.find_elements(By.CSS_SELECTOR, "#diff-findings tbody tr[data-item]"):
            k = (r.get_attribute("data-policy"), r.get_attribute("data-item"), r.get_attribute("data-verdict"))
            page_moves[k] = (int(r.get_attribute("data-appeared")), int(r.get_attribute("data-fixed")))
        truth_moves = {k: (appeared.get(k, 0), fixed.get(k, 0)) for k in appeared.keys() | fixed.keys()}
        expect(page_moves == truth_moves, "findings moved: page %s, ndjson %s" % (page_moves, truth_moves))
        Select(driver.find_element(By.ID, "d-change")).select_by_value("worse")
        worse = driver.find_elements(By.CSS_SELECTOR, "#diff-rows tr")
        expect(len(worse) == want["worse"], "the worse list has %d rows, expected %d" % (len(worse), want["worse"]))
        if worse:
            worse[0].click()
            expect(driver.find_element(By.ID, "detail").is_displayed(), "a changed endpoint opens its detail")
        Select(driver.find_element(By.ID, "d-change")).select_by_value("")
        checked["diff"] = want
        driver.find_element(By.ID, "diff").location_once_scrolled_into_view
    driver.save_screenshot(screenshot)
    return checked


def main():
    args = sys.argv[1:]
    baseline = None
    if "--baseline" in args:
        i = args.index("--baseline")
        baseline = args[i + 1]
        del args[i:i + 2]
    timing = "--timing" in args
    args = [a for a in args if a != "--timing"]
    page, ndjson, screenshot = args
    driver = browser()
    try:
        if timing:
            seconds = open_page(driver, page)
            driver.save_screenshot(screenshot)
            rows = len(driver.find_elements(By.CSS_SELECTOR, "#endpoint-rows tr"))
            print(json.dumps({"ok": True, "render_seconds": round(seconds, 3), "rows_drawn": rows}))
        else:
            print(json.dumps(dict(ok=True, **check(driver, page, ndjson, screenshot, baseline))))
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
