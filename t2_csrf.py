import sys, time, json; sys.path.insert(0, '/work/scratch/probe8')
from cdp import CDP
attacker = sys.argv[1]; signin = sys.argv[2] == "1"
c = CDP()
try:
    c.send("Page.enable"); c.send("Runtime.enable")
    c.goto("http://127.0.0.1:51511/", 3)
    if signin:
        print("signin", c.eval('fetch("/api/session",{method:"POST",headers:{"Content-Type":"application/json"},body:JSON.stringify({key:"S3cretKey-probe8-0123456789"})}).then(r=>r.status)'))
    print("cookies", [(x["name"], x["sameSite"] if "sameSite" in x else None, x["httpOnly"], x["secure"]) for x in c.send("Network.getAllCookies")["cookies"]])
    c.goto(attacker, 5)
    print("after attack url", c.eval("location.href"), "title", c.eval("document.title"), "body", c.eval("document.body.innerText.slice(0,200)"))
finally:
    c.close()
