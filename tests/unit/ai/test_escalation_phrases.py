"""Hand-off phrasing in AI replies and requests for a human, in each supported language."""

from __future__ import annotations

import pytest

from halo_supabase.ai.escalation import customer_requests_human, reply_hands_off

HANDOFFS = {
    "en": [
        "Let me connect you with a human who can look at your account.",
        "I'm transferring you to one of our support agents now.",
        "I'll get a teammate involved to check the refund.",
        "One of our specialists will get back to you within the hour.",
        "I'm going to escalate this to the billing team.",
        "Let me create a ticket for this so the team can follow up.",
    ],
    "es": [
        "Te paso con un agente para que revise tu factura.",
        "Le transfiero con uno de nuestros asesores.",
        "Voy a escalar tu caso al equipo técnico.",
        "Un compañero te contactará en breve.",
    ],
    "fr": [
        "Je vous mets en relation avec un conseiller.",
        "Je vous transfère vers l'un de nos agents.",
        "Je transmets votre demande à notre équipe support.",
        "Un conseiller va vous recontacter rapidement.",
    ],
    "de": [
        "Ich verbinde Sie mit einem Mitarbeiter.",
        "Ich leite Ihre Anfrage an einen Kollegen weiter.",
        "Ein Mitarbeiter wird sich in Kürze bei Ihnen melden.",
        "Ich erstelle ein Ticket für Sie.",
    ],
    "pt": [
        "Vou transferir você para um atendente.",
        "Vou te passar para um dos nossos especialistas.",
        "Um atendente vai entrar em contato com você.",
        "Vou abrir um chamado para a equipe.",
    ],
    "it": [
        "Ti metto in contatto con un operatore.",
        "La passo a un collega che può aiutarla.",
        "Un operatore ti contatterà a breve.",
    ],
    "nl": [
        "Ik verbind je door met een medewerker.",
        "Een collega neemt contact met je op.",
    ],
}

NOT_HANDOFFS = {
    "en": [
        "You can connect your Slack workspace to the inbox under Integrations.",
        "I can't transfer you to an agent right now, but here is the refund form.",
        "Our human resources module is available on the Business plan.",
        "The agent field on the ticket shows who it is assigned to.",
        "I'm an AI assistant; ask me anything about billing.",
        "Transfer the domain to our servers by changing the DNS records.",
    ],
    "es": [
        "Puedes conectar tu cuenta de Shopify desde Ajustes.",
        "No puedo pasarte con un agente ahora mismo, pero te explico los pasos.",
        "El agente asignado aparece en la ficha del ticket.",
    ],
    "fr": [
        "Vous pouvez connecter votre compte Slack dans les paramètres.",
        "Je ne peux pas vous mettre en relation avec un conseiller le dimanche.",
        "Le champ agent indique la personne assignée.",
    ],
    "de": [
        "Sie können Ihr Konto mit Slack verbinden.",
        "Ich kann Sie leider nicht mit einem Mitarbeiter verbinden, aber hier ist die Anleitung.",
        "Der zuständige Mitarbeiter steht im Ticket.",
    ],
    "pt": [
        "Você pode conectar sua conta do Shopify nas configurações.",
        "Não posso transferir você para um atendente agora, mas veja o passo a passo.",
    ],
    "it": [
        "Puoi collegare il tuo account Slack dalle impostazioni.",
        "Non posso metterti in contatto con un operatore la domenica.",
    ],
    "nl": [
        "Je kunt je Slack-account koppelen via Instellingen.",
        "Ik kan je niet doorverbinden met een medewerker, maar hier is de handleiding.",
    ],
}

ASKS = {
    "en": [
        "Can I talk to a real person please?",
        "Get me a human.",
        "I want to speak to a manager",
    ],
    "es": ["Quiero hablar con una persona.", "Pásame con alguien de soporte, por favor."],
    "fr": ["Je veux parler à un conseiller.", "Un vrai humain, s'il vous plaît."],
    "de": ["Ich möchte mit einem Menschen sprechen.", "Verbinden Sie mich bitte weiter."],
    "pt": ["Quero falar com um atendente.", "Tem alguma pessoa de verdade aí?"],
    "it": ["Posso parlare con un operatore?"],
    "nl": ["Kan ik met een medewerker spreken?"],
}

NOT_ASKS = {
    "en": [
        "I talked to your agent yesterday and it is fixed, thanks.",
        "How do I add a new agent to my team?",
        "The person field on the contact is empty.",
    ],
    "es": ["¿Cómo añado un agente nuevo al equipo?"],
    "fr": ["Comment ajouter un agent à mon équipe ?"],
    "de": ["Wie füge ich einen neuen Mitarbeiter hinzu?"],
    "pt": ["Como adiciono um novo atendente na equipe?"],
    "it": ["Come aggiungo un nuovo operatore al team?"],
    "nl": ["Hoe voeg ik een nieuwe medewerker toe?"],
}


def _cases(table: dict[str, list[str]]) -> list[tuple[str, str]]:
    return [(language, text) for language, texts in table.items() for text in texts]


@pytest.mark.parametrize(("language", "reply"), _cases(HANDOFFS))
def test_hand_off_phrasing_is_detected(language: str, reply: str) -> None:
    assert reply_hands_off(reply) is not None


@pytest.mark.parametrize(("language", "reply"), _cases(NOT_HANDOFFS))
def test_near_misses_are_not_hand_offs(language: str, reply: str) -> None:
    assert reply_hands_off(reply) is None


@pytest.mark.parametrize(("language", "message"), _cases(ASKS))
def test_customer_asking_for_a_human_is_detected(language: str, message: str) -> None:
    assert customer_requests_human(message) is not None


@pytest.mark.parametrize(("language", "message"), _cases(NOT_ASKS))
def test_customer_near_misses_are_not_requests(language: str, message: str) -> None:
    assert customer_requests_human(message) is None


def test_every_supported_language_has_positives_and_negatives() -> None:
    languages = {"en", "es", "fr", "de", "pt", "it", "nl"}
    for table in (HANDOFFS, NOT_HANDOFFS, ASKS, NOT_ASKS):
        assert set(table) == languages
