"""Credentials: known key shapes, PEM blocks, connection strings, cue-word secrets (zh/en)."""

from __future__ import annotations

import pytest

from streamproc.core.taxonomy import PrivacyLevel

from .rules_support import found


@pytest.mark.parametrize(("value", "kind"), [
    ("AKIAQ3EGRT5YH7NWX2LM", "Key"),
    ("ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8", "Token"),
    ("github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuv", "Token"),
    ("xoxb-2048-1234567890-AbCdEfGhIjKl", "Token"),
    ("sk_live_4eC39HqLyjWDarjtT1zdp7dc", "Key"),
    ("sk-proj-Zt81xQm2Lr0vN7kP4sW9yB3cH6jD5fG", "Key"),
    ("AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q", "Key"),
    ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.c2lnbmF0dXJlXzEyMw", "Token"),
])
def test_vendor_prefixed_secrets_are_pl4(value, kind):
    assert found(f"config: {value} end")[value] == (kind, PrivacyLevel.PL4)


def test_bearer_token_reports_the_token_not_the_word_bearer():
    assert "Zm9vYmFyYmF6cXV4MTIzNDU2" in found("Authorization: Bearer Zm9vYmFyYmF6cXV4MTIzNDU2")


def test_pem_private_key_block_is_reported_whole():
    pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nAKCAQ\n-----END RSA PRIVATE KEY-----"
    assert found(f"here:\n{pem}\nthanks")[pem] == ("Private Key", PrivacyLevel.PL4)


@pytest.mark.parametrize("dsn", [
    "postgresql://svc:Tr0ub4dor@db.internal:5432/orders",
    "mongodb+srv://app:pw123@cluster0.abcd.mongodb.net/prod",
    "redis://:s3cret@cache:6379/0",
    "jdbc:mysql://10.1.2.3:3306/shop?user=root&password=hunter22",
])
def test_connection_strings_are_reported_whole(dsn):
    assert found(f"use {dsn} for now")[dsn] == ("Database Connection String", PrivacyLevel.PL4)


def test_odbc_connection_string_keeps_password_punctuation():
    dsn = "Server=sql01;Database=hr;User Id=sa;Password=Secr3t!;"
    assert "Server=sql01;Database=hr;User Id=sa;Password=Secr3t!" in found(dsn)


def test_http_url_with_credentials_is_masked_whole_as_a_connection_string():
    assert found("clone https://deploy:Xq7-pass@git.example.com/repo.git")[
        "https://deploy:Xq7-pass@git.example.com/repo.git"] == ("Database Connection String", PrivacyLevel.PL4)


@pytest.mark.parametrize(("text", "value"), [
    ("My password is Blue!Heron42", "Blue!Heron42"),
    ("pwd: k8#LmQz", "k8#LmQz"),
    ("the wifi password is 'sunflower'", "sunflower"),
    ("我的密码是 Qz!8810mm，别告诉别人", "Qz!8810mm"),
    ("新口令为：Tiger@2077。", "Tiger@2077"),
])
def test_password_after_cue_reports_only_the_value(text, value):
    assert found(text)[value] == ("Password", PrivacyLevel.PL4)


@pytest.mark.parametrize(("text", "value"), [
    ("verification code 517204", "517204"),
    ("the 6-digit code I just got is 390182.", "390182"),
    ("Your OTP: QXT-4471", "QXT-4471"),
    ("one-time password is 60731", "60731"),
    ("验证码是 274913，五分钟内有效", "274913"),
    ("短信验证码为：6620", "6620"),
    ("动态码 318-552 已发送", "318-552"),
    ("recovery code: B-412-775", "B-412-775"),
])
def test_verification_code_after_cue_reports_only_the_value(text, value):
    assert found(text)[value] == ("Verification Code", PrivacyLevel.PL4)


def test_pin_and_cvv_are_found_by_cue():
    result = found("PIN is 4821 and CVV 903; 安全码 417")
    assert result["4821"] == ("Password", PrivacyLevel.PL4)
    assert result["903"] == ("Payment Security Code", PrivacyLevel.PL4)
    assert result["417"] == ("Payment Security Code", PrivacyLevel.PL4)


def test_session_token_by_cue_is_found():
    assert found("会话ID为 SX-7731-QA，请保存")["SX-7731-QA"] == ("Token", PrivacyLevel.PL4)


def test_password_cue_without_a_password_like_value_reports_nothing():
    assert found("I forgot my password yesterday and reset it") == {}


def test_zip_code_is_not_a_verification_code():
    assert found("zip code 60614") == {}


def test_code_cue_does_not_take_a_date():
    assert found("verification code expires 2026-08-09") == {}


def test_strong_password_without_cue_is_still_caught():
    assert found("never use Hx7$kq!Pw2zN again")["Hx7$kq!Pw2zN"][0] == "Password"
