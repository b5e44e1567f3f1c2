from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from halo_supabase.email.quotes import strip_quotes

ATTRIBUTIONS = [
    "On Tue, 4 Jun 2024 at 09:00, Support <support@acme.example> wrote:",
    "Am Di., 4. Juni 2024 um 09:00 Uhr schrieb Support <support@acme.example>:",
    "Le mar. 4 juin 2024 à 09:00, Support <support@acme.example> a écrit :",
    "El mar, 4 jun 2024 a las 9:00, Support (<support@acme.example>) escribió:",
    "Il giorno mar 4 giu 2024 alle ore 09:00 Support <support@acme.example> ha scritto:",
    "Op di 4 jun 2024 om 09:00 schreef Support <support@acme.example>:",
    "Em ter., 4 de jun. de 2024 às 09:00, Support <support@acme.example> escreveu:",
    "Den tis 4 juni 2024 kl 09:00 skrev Support <support@acme.example>:",
    "2024年6月4日(火) 9:00 Support <support@acme.example>:",
    "On 04/06/2024 09:00, Support wrote:",
    "-----Original Message-----",
    "-----Ursprüngliche Nachricht-----",
    "-----Message d'origine-----",
]


@pytest.mark.parametrize("attribution", ATTRIBUTIONS)
def test_everything_from_the_attribution_on_is_the_quote(attribution: str) -> None:
    result = strip_quotes(f"New text here.\n\n{attribution}\n> old text\n")
    assert result.text == "New text here."
    assert result.quote.splitlines()[0] == attribution


def test_a_wrapped_gmail_attribution_is_found() -> None:
    text = "Yes.\n\nOn Tue, 4 Jun 2024 at 09:00, A Very Long Name <long.name@example.com>\nwrote:\n> q\n"
    assert strip_quotes(text).text == "Yes."


@pytest.mark.parametrize(
    ("from_line", "sent_line"),
    [
        ("From: Support <support@acme.example>", "Sent: Tuesday, June 4, 2024 9:00 AM"),
        ("Von: Support <support@acme.example>", "Gesendet: Dienstag, 4. Juni 2024 09:00"),
        ("De : Support <support@acme.example>", "Envoyé : mardi 4 juin 2024 09:00"),
        ("Da: Support <support@acme.example>", "Inviato: martedì 4 giugno 2024 09:00"),
        ("Från: Support <support@acme.example>", "Skickat: den 4 juni 2024 09:00"),
        ("*From:* Support <support@acme.example>", "*Sent:* Tuesday, June 4, 2024 9:00 AM"),
    ],
)
def test_outlook_header_blocks_start_the_quote(from_line: str, sent_line: str) -> None:
    text = f"Reply.\n\n________________________________\n{from_line}\n{sent_line}\nTo: x\n\nold\n"
    result = strip_quotes(text)
    assert result.text == "Reply."
    assert result.quote.startswith("________________________________")


def test_a_from_line_without_a_date_line_is_kept() -> None:
    text = "From: my colleague I heard the export is broken.\nCan you check?"
    assert strip_quotes(text).text == text


def test_prose_mentioning_someone_who_wrote_is_kept() -> None:
    text = "As John wrote:\nthe fix is deployed."
    assert strip_quotes(text).text == text


def test_signature_after_the_delimiter_is_separated() -> None:
    result = strip_quotes("Thanks!\n\n-- \nJane Doe\nACME Corp\n")
    assert (result.text, result.signature) == ("Thanks!", "-- \nJane Doe\nACME Corp")


@pytest.mark.parametrize(
    "footer",
    [
        "Sent from my iPhone",
        "Von meinem iPhone gesendet",
        "Envoyé de mon iPad",
        "Enviado desde mi Samsung",
        "Verzonden vanaf mijn iPhone",
        "Enviado do meu iPhone",
        "Skickat från min iPhone",
        "iPhoneから送信",
        "Get Outlook for Android",
    ],
)
def test_mobile_footers_are_a_signature(footer: str) -> None:
    result = strip_quotes(f"On my way.\n\n{footer}\n")
    assert (result.text, result.signature) == ("On my way.", footer)


def test_a_footer_phrase_early_in_a_long_message_is_kept() -> None:
    text = "Sent from my iPhone\nthat is what my old phone said.\nNow it is different.\nLine 4.\n"
    assert strip_quotes(text).text == text.strip()


def test_trailing_quote_block_goes_but_interleaved_answers_stay() -> None:
    text = "> q1\na1\n\n> q2\na2\n\n> bye\n> support\n"
    result = strip_quotes(text)
    assert result.text == "> q1\na1\n\n> q2\na2"
    assert result.quote == "> bye\n> support"


def test_a_message_that_is_only_quote_is_shown_whole() -> None:
    text = "On Tue, 4 Jun 2024 at 09:00, Support <s@acme.example> wrote:\n> hi\n"
    result = strip_quotes(text)
    assert result.text == text.strip()
    assert result.quote == ""


@given(st.text(max_size=400))
def test_the_shown_text_is_always_part_of_the_original(text: str) -> None:
    result = strip_quotes(text)
    normalised = text.replace("\r\n", "\n").replace("\r", "\n")
    assert result.text in normalised
    assert result.quote in normalised
    assert result.signature in normalised
