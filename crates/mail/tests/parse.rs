//! Inbound messages as real mail clients and servers write them.
#![allow(clippy::unwrap_used)]

use opsflow_domain::email::Automated;
use opsflow_mail::{Limits, ParseError, parse};
use proptest::prelude::*;

fn ok(raw: &[u8]) -> opsflow_domain::email::InboundEmail {
    parse(raw, &Limits::default()).unwrap()
}

fn msg(headers: &str, body: &str) -> Vec<u8> {
    format!("{headers}\r\n\r\n{body}").replace("\r\n", "\n").replace('\n', "\r\n").into_bytes()
}

#[test]
fn a_plain_message_gives_sender_subject_body_and_ids() {
    let m = ok(&msg(
        "From: \"Ann Example\" <Ann@Example.COM>\nTo: support@acme.test\nSubject: Login broken\nMessage-ID: <CAF1@mail.example.com>\nDate: Tue, 3 Mar 2026 10:02:00 +0100",
        "I cannot log in since this morning.\n",
    ));
    assert_eq!(m.from.email.as_str(), "ann@example.com");
    assert_eq!(m.from.name.as_deref(), Some("Ann Example"));
    assert_eq!(m.subject, "Login broken");
    assert_eq!(m.body, "I cannot log in since this morning.");
    assert_eq!(m.new_text, m.body);
    assert_eq!(m.message_id, "CAF1@mail.example.com");
    assert!(m.in_reply_to.is_empty() && m.references.is_empty() && m.attachments.is_empty());
    assert_eq!(m.automated, None);
    assert!(m.reply_to.is_none());
}

#[test]
fn encoded_words_in_subject_and_names_are_decoded() {
    let m = ok(&msg(
        "From: =?ISO-8859-1?Q?Andr=E9_M=FCller?= <andre@example.de>\nSubject: =?UTF-8?B?UHJvYmzDqG1lIGRlIGZhY3R1cmF0aW9u?= =?UTF-8?Q?_=E2=82=AC?=\nMessage-ID: <x1@example.de>",
        "Hallo",
    ));
    assert_eq!(m.from.name.as_deref(), Some("André Müller"));
    assert_eq!(m.subject, "Problème de facturation €");
}

#[test]
fn bodies_in_legacy_charsets_become_utf8() {
    let mut latin1 = b"From: a@example.com\r\nSubject: x\r\nContent-Type: text/plain; charset=ISO-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\n".to_vec();
    latin1.extend_from_slice(b"Gr\xfc\xdfe aus K\xf6ln, caf\xe9\r\n");
    assert_eq!(ok(&latin1).body, "Grüße aus Köln, café");

    let mut latin2 = b"From: a@example.com\r\nSubject: x\r\nContent-Type: text/plain; charset=iso-8859-2\r\n\r\n".to_vec();
    latin2.extend_from_slice(b"Dzi\xeakuj\xea, \xb3\xf3d\xbc\r\n");
    assert_eq!(ok(&latin2).body, "Dziękuję, łódź");

    let mut cp1252 = b"From: a@example.com\r\nSubject: x\r\nContent-Type: text/plain; charset=windows-1252\r\n\r\n".to_vec();
    cp1252.extend_from_slice(b"\x93Quoted\x94 costs \x8050 \x96 ok\r\n");
    assert_eq!(ok(&cp1252).body, "\u{201c}Quoted\u{201d} costs \u{20ac}50 \u{2013} ok");

    let mut sjis = b"From: a@example.jp\r\nSubject: =?Shift_JIS?B?k/qWe4zq?=\r\nContent-Type: text/plain; charset=Shift_JIS\r\n\r\n".to_vec();
    sjis.extend_from_slice(b"\x93\xfa\x96\x7b\x8c\xea\x82\xc5\x82\xb7\r\n");
    let m = ok(&sjis);
    assert_eq!(m.subject, "日本語");
    assert_eq!(m.body, "日本語です");

    let qp = msg(
        "From: a@example.com\nSubject: x\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable",
        "Caf=C3=A9 au lait, tr=C3=A8s=\n bien",
    );
    assert_eq!(ok(&qp).body, "Café au lait, très bien");
}

#[test]
fn multipart_alternative_prefers_the_plain_part() {
    let m = ok(&msg(
        "From: a@example.com\nSubject: x\nMIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=\"b1\"",
        "--b1\nContent-Type: text/plain; charset=utf-8\n\nPlain version.\n--b1\nContent-Type: text/html; charset=utf-8\n\n<p>HTML <b>version</b>.</p>\n--b1--\n",
    ));
    assert_eq!(m.body, "Plain version.");
}

#[test]
fn html_only_mail_becomes_readable_text() {
    let m = ok(&msg(
        "From: a@example.com\nSubject: x\nContent-Type: text/html; charset=utf-8",
        "<html><head><style>p{color:red}</style></head><body><p>Hello&nbsp;team,</p><p>The <b>checkout</b> page shows &lt;error 500&gt;.</p><br><div>Thanks</div></body></html>",
    ));
    assert!(!m.body.contains('<') || m.body.contains("<error 500>"), "no tags: {:?}", m.body);
    assert!(m.body.contains("Hello team,"), "{:?}", m.body);
    assert!(m.body.contains("The checkout page shows <error 500>."), "{:?}", m.body);
    assert!(m.body.contains("Thanks"));
    assert!(!m.body.contains("color:red"), "styles are not text: {:?}", m.body);
}

#[test]
fn attachments_are_kept_with_safe_names() {
    let m = ok(&msg(
        "From: a@example.com\nSubject: Invoice\nContent-Type: multipart/mixed; boundary=\"mix\"",
        "--mix\nContent-Type: text/plain\n\nSee attached.\n--mix\nContent-Type: application/pdf; name=\"../../etc/invoice.pdf\"\nContent-Disposition: attachment; filename=\"../../etc/invoice.pdf\"\nContent-Transfer-Encoding: base64\n\nJVBERi0xLjQK\n--mix\nContent-Type: image/png\nContent-Disposition: attachment\nContent-Transfer-Encoding: base64\n\niVBORw0KGgo=\n--mix--\n",
    ));
    assert_eq!(m.body, "See attached.");
    assert_eq!(m.attachments.len(), 2);
    assert_eq!(m.attachments[0].filename, "invoice.pdf");
    assert_eq!(m.attachments[0].content_type, "application/pdf");
    assert_eq!(m.attachments[0].data, b"%PDF-1.4\n");
    assert_eq!(m.attachments[1].filename, "attachment-2.bin");
    assert_eq!(m.attachments[1].content_type, "image/png");
    assert_eq!(m.attachments[1].data, b"\x89PNG\r\n\x1a\n");
}

#[test]
fn follow_ups_carry_thread_ids_and_lose_their_quoted_history() {
    let m = ok(&msg(
        "From: Ann <ann@example.com>\nSubject: Re: Login broken [#42]\nMessage-ID: <reply-2@example.com>\nIn-Reply-To: <opsflow-1@acme.test>\nReferences: <orig@example.com>\n <opsflow-1@acme.test>",
        "Still broken, sorry.\n\nOn Tue, 3 Mar 2026 at 10:02, Acme Support <support@acme.test> wrote:\n> Please clear your cache.\n",
    ));
    assert_eq!(m.in_reply_to, ["opsflow-1@acme.test"]);
    assert_eq!(m.references, ["orig@example.com", "opsflow-1@acme.test"]);
    assert_eq!(m.thread_ids(), ["opsflow-1@acme.test", "orig@example.com"]);
    assert_eq!(opsflow_domain::email::ticket_reference(&m.subject), Some(42));
    assert_eq!(m.new_text, "Still broken, sorry.");
    assert!(m.body.contains("Please clear your cache."), "the whole body is kept too");
}

#[test]
fn reply_to_names_the_customer_of_a_contact_form() {
    let m = ok(&msg(
        "From: Website <noreply@acme-site.test>\nReply-To: Bo Customer <bo@example.org>\nSubject: Contact form",
        "Please call me back.",
    ));
    assert_eq!(m.automated, None, "a form relay is not automatic mail");
    assert_eq!(m.customer().email.as_str(), "bo@example.org");
    assert_eq!(m.customer().name.as_deref(), Some("Bo Customer"));
}

#[test]
fn automatic_mail_is_recognised() {
    let cases: &[(&str, Option<Automated>)] = &[
        ("From: a@example.com\nAuto-Submitted: auto-replied", Some(Automated::AutoReply)),
        ("From: a@example.com\nauto-submitted: auto-generated", Some(Automated::AutoReply)),
        ("From: a@example.com\nAuto-Submitted: no", None),
        ("From: a@example.com\nX-Autoreply: yes", Some(Automated::AutoReply)),
        ("From: a@example.com\nX-Autorespond: Out of office", Some(Automated::AutoReply)),
        ("From: a@example.com\nPrecedence: auto_reply", Some(Automated::AutoReply)),
        ("From: a@example.com\nPrecedence: bulk", Some(Automated::Bulk)),
        ("From: a@example.com\nPrecedence: list", Some(Automated::Bulk)),
        ("From: a@example.com\nList-Id: <news.example.com>", Some(Automated::Bulk)),
        ("From: a@example.com\nList-Unsubscribe: <mailto:u@example.com>", Some(Automated::Bulk)),
        ("From: MAILER-DAEMON@mx.example.com", Some(Automated::Bounce)),
        ("From: postmaster@example.com", Some(Automated::Bounce)),
        ("From: a@example.com\nX-Failed-Recipients: b@example.com", Some(Automated::Bounce)),
        (
            "From: a@example.com\nContent-Type: multipart/report; report-type=delivery-status; boundary=r",
            Some(Automated::Bounce),
        ),
        ("From: a@example.com\nPrecedence: normal", None),
    ];
    for (headers, expected) in cases {
        let raw = msg(&format!("{headers}\nSubject: Out of office"), "--r\n\nI am away.\n--r--\n");
        assert_eq!(ok(&raw).automated, *expected, "{headers}");
    }
}

#[test]
fn a_missing_message_id_is_derived_from_the_content() {
    let a = msg("From: a@example.com\nSubject: x", "same body");
    let b = msg("From: a@example.com\nSubject: x", "other body");
    assert_eq!(ok(&a).message_id, ok(&a).message_id, "stable: a re-delivery is a duplicate");
    assert_ne!(ok(&a).message_id, ok(&b).message_id);
    assert!(ok(&a).message_id.ends_with("@opsflow.sha256"));
}

#[test]
fn bad_messages_get_a_reason_not_a_panic() {
    let limits = Limits { max_message_bytes: 100 };
    let big = msg("From: a@example.com\nSubject: x", &"x".repeat(200));
    assert_eq!(parse(&big, &limits), Err(ParseError::TooLarge { size: big.len(), limit: 100 }));
    assert_eq!(parse(b"", &Limits::default()), Err(ParseError::NotAMessage));
    assert_eq!(
        parse(&msg("Subject: no sender", "body"), &Limits::default()),
        Err(ParseError::NoSender)
    );
    assert_eq!(
        parse(&msg("From: not an address\nSubject: x", "body"), &Limits::default()),
        Err(ParseError::NoSender)
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = parse(&bytes, &Limits::default());
    }

    #[test]
    fn arbitrary_bodies_after_valid_headers_parse(body in "\\PC{0,400}") {
        let raw = msg("From: a@example.com\nSubject: x\nContent-Type: text/plain; charset=utf-8", &body);
        let m = parse(&raw, &Limits::default()).unwrap();
        prop_assert_eq!(m.from.email.as_str(), "a@example.com");
    }
}
