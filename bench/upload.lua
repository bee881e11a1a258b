-- wrk: POST a 10 MB body (the streaming upload scenario, bench/scenarios.py).
wrk.method = "POST"
wrk.body = string.rep("x", 10000000)
wrk.headers["Content-Type"] = "application/octet-stream"
