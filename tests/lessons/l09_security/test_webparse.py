"""l09_security.webparse: a page read into tags and attributes, a CSP read into directives, as a browser does."""

from labsupport.lessons.l09_security.webparse import page_shape, parse_policy, script_policy_problem


def test_page_shape_decodes_entities_like_a_browser():
    shape = page_shape('<p>a &amp; &lt;b&gt;</p><input value="&quot;x&#x27;">')
    assert "".join(shape.text) == "a & <b>"
    assert shape.skeleton == [("p", ()), ("input", ("value",))]
    assert shape.attribute_values() == ["\"x'"]


def test_parse_policy_reads_tokens_not_substrings():
    policy = parse_policy("Script-Src 'self' HTTPS:; report-uri /default-src;script-src *")
    assert policy == {"script-src": ["'self'", "https:"], "report-uri": ["/default-src"]}
    assert script_policy_problem(["script-src 'self'; report-uri /x"]) is None
    assert script_policy_problem([]) == "there is no Content-Security-Policy header"
    assert "neither" in script_policy_problem(["report-uri /script-src"])
    # *.example.com is a host source: scripts from hosts the attacker does not control
    assert script_policy_problem(["script-src 'self' *.example.com"]) is None
