async def test_login_and_viewer(api, tenant_a):
    data = await api.ok("{ viewer { role isApiKey account { name kind } user { email } } }", token=tenant_a.admin)
    assert data["viewer"] == {
        "role": "ADMIN",
        "isApiKey": False,
        "account": {"name": "alpha", "kind": "ORGANIZATION"},
        "user": {"email": "admin@alpha.test"},
    }
