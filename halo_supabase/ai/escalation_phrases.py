"""Recognise a hand-off to a human in an AI reply, and a customer asking for one.

Patterns run on :func:`halo_supabase.ai.lexicon.normalize`d text (lower case, accents folded), so
"transfiero"/"transfiéro" or "não"/"nao" need one spelling. A match preceded closely by a negation
("I can't transfer you to an agent right now") does not count: the AI is declining, not handing off.
Languages: en, es, fr, de, pt, it, nl.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from halo_supabase.ai.lexicon import normalize

__all__ = ["PhraseMatch", "customer_requests_human", "reply_hands_off"]

# Who a conversation can be handed to, per language (normalized spelling).
_HUMAN_EN = (
    r"(?:a |an |one of our |our |the )?(?:human|real person|person|agent|teammate|colleague|"
    r"specialist|support (?:agent|team|specialist)|representative|team member|member of (?:our|the) "
    r"team|someone from (?:our|the) team|expert)s?"
)
_HUMAN_ES = (
    r"(?:un |una |el |la |nuestro |nuestra |uno de nuestros |una de nuestras )?(?:agente|persona|"
    r"humano|companer[oa]|especialista|asesor[a]?|operador[a]?|equipo(?: de soporte)?|miembro del "
    r"equipo|gestor[a]?)(?:es|s)?"
)
_HUMAN_FR = (
    r"(?:un |une |l'un de nos |l'une de nos |notre |nos |un de nos )?(?:conseiller|conseillere|agent|"
    r"humain|collegue|specialiste|membre de (?:notre|l') ?equipe|equipe(?: support)?|personne|"
    r"expert|operateur|operatrice)s?"
)
_HUMAN_DE = (
    r"(?:einem |einer |einen |unserem |unserer |unseren |eine |ein )?(?:mitarbeiter(?:in)?|menschen|"
    r"kolleg(?:e|en|in)|agenten|berater(?:in)?|support(?:-?team)?|team|spezialist(?:en|in)?|"
    r"experten|echten person)"
)
_HUMAN_PT = (
    r"(?:um |uma |o |a |nosso |nossa |um dos nossos |uma das nossas |um de nossos )?(?:atendente|"
    r"agente|humano|pessoa|colega|especialista|equipe(?: de suporte)?|consultor[a]?|analista)s?"
)
_HUMAN_IT = (
    r"(?:un |una |un nostro |una nostra |il |l'|uno dei nostri |una delle nostre )?(?:operatore|"
    r"operatrice|collega|agente|persona|consulente|umano|specialista|team)"
)
_HUMAN_NL = r"(?:een |onze |de |een van onze )?(?:medewerker|collega|mens|agent|specialist|team)s?"

_HANDOFF = [
    # en
    rf"\b(?:connect|transfer|put|pass|hand|route|forward|refer)\w* (?:you|this|your "
    rf"(?:request|case|question|conversation|chat)|it)(?: (?:through|over|on|off))? (?:with|to) "
    rf"{_HUMAN_EN}\b",
    rf"\b(?:get|bring|loop|pull)(?:ing)? (?:in )?{_HUMAN_EN} (?:involved|in)\b",
    rf"\b{_HUMAN_EN} will (?:get back to you|follow up|reach out|be with you|take over|contact "
    rf"you|help you|look into)",
    r"\bescalat(?:e|ing) (?:this|your|the|it)\b",
    r"\b(?:let me|i'll|i will|i'm going to|i am going to) (?:create|open|file|raise|log) a "
    r"(?:support )?ticket\b",
    # es
    rf"\b(?:te|le|lo|la) (?:paso|transfiero|comunico|derivo|pongo en contacto|pongo|conecto|"
    rf"transferire|pasare|comunicare|derivare)(?: ahora)? (?:con|a) {_HUMAN_ES}\b",
    r"\b(?:voy a|vamos a) (?:escalar|derivar|transferir|pasar) (?:tu|su|este|esta|el|la)\b",
    rf"\b{_HUMAN_ES} (?:te|le|se) (?:contactara|atendera|pondra en contacto|escribira|ayudara)",
    r"\b(?:voy a|vamos a) (?:crear|abrir) (?:un ticket|una incidencia|un caso)\b",
    # fr
    rf"\b(?:je vous|je te|nous vous) (?:mets|met|passe|transfere|redirige|oriente|connecte)"
    rf"(?: en relation| en contact)? (?:avec|a|vers) {_HUMAN_FR}\b",
    rf"\b(?:je|nous) (?:transfere|transmets|transmettons|vais transmettre|vais transferer) "
    rf"(?:votre|ta|cette) (?:demande|question|conversation) (?:a|au|aux|vers) {_HUMAN_FR}",
    rf"\b{_HUMAN_FR} (?:va|vont) (?:vous|te) (?:recontacter|contacter|repondre|aider|prendre en "
    rf"charge)",
    r"\bje (?:vais )?(?:creer|cree|ouvrir|ouvre) un (?:ticket|dossier)\b",
    # de
    rf"\b(?:ich )?verbinde (?:sie|dich)(?: jetzt| gleich)? (?:mit|an) {_HUMAN_DE}\b",
    rf"\b(?:ich )?(?:leite|gebe|ubergebe) (?:sie|dich|ihre anfrage|deine anfrage|das|dies)"
    rf"(?: gerne| jetzt)? (?:an|zu) {_HUMAN_DE}",
    r"\b(?:ein|eine|unser|unsere) (?:mitarbeiter(?:in)?|kolleg(?:e|in)|berater(?:in)?) "
    r"(?:wird sich|meldet sich)",
    r"\bich (?:erstelle|eroffne|lege) (?:ihnen |dir )?ein (?:support-?)?ticket\b",
    # pt
    rf"\b(?:vou |irei )?(?:te |lhe |o |a |voce )?(?:transferir|passar|encaminhar|conectar|"
    rf"transferindo|encaminhando)(?: voce| o seu| a sua| seu| sua)?(?: atendimento| caso| "
    rf"pedido)? (?:para|com|a) {_HUMAN_PT}\b",
    rf"\b{_HUMAN_PT} (?:vai|ira) (?:entrar em contato|te atender|falar com voce|te ajudar|"
    rf"continuar)",
    r"\bvou (?:abrir|criar|registrar) um (?:chamado|ticket|protocolo)\b",
    # it
    rf"\b(?:ti|la|vi) (?:metto in contatto|passo|trasferisco|metto|inoltro|collego)"
    rf"(?: subito)? (?:con|a) {_HUMAN_IT}\b",
    rf"\b{_HUMAN_IT} (?:ti|la|vi) (?:contattera|ricontattera|rispondera|aiutera)",
    r"\b(?:apro|aprire|creo) un ticket\b",
    # nl
    rf"\bik (?:verbind|zet|stuur) (?:je|u)(?: nu)?(?: door)? (?:met|naar|aan) {_HUMAN_NL}\b",
    rf"\b{_HUMAN_NL} (?:neemt|zal) (?:contact|je|u)",
    r"\bik (?:maak|open) een ticket\b",
]

_ASKS_FOR_HUMAN = [
    # en
    r"\b(?:talk|speak|chat) (?:to|with) (?:a |an |some |someone|somebody|your )?(?:real |actual |"
    r"live )?(?:human|person|agent|someone|somebody|representative|manager|supervisor|operator)",
    r"\b(?:real|actual|live) (?:person|human|agent)\b",
    r"\b(?:get|give|connect|transfer|put) me (?:through )?(?:to |with )?(?:a |an )?(?:human|person|"
    r"agent|representative|manager|supervisor|someone)\b",
    r"\b(?:human|agent|representative|operator),? please\b",
    r"\bi (?:want|need|demand) (?:a |an |to speak to a |to talk to a )?(?:human|person|agent)\b",
    # es
    r"\bhablar con (?:una persona|un humano|un agente|alguien|un asesor|un operador|un responsable|"
    r"un encargado)",
    r"\bpersona (?:real|de verdad)\b",
    r"\b(?:pasame|paseme|comuniqueme|comunicame) con\b",
    r"\bquiero (?:un|una) (?:persona|humano|agente)\b",
    # fr
    r"\bparler (?:a|avec) (?:un |une |quelqu'un|un vrai |une vraie )?(?:humain|personne|conseiller|"
    r"conseillere|agent|responsable|quelqu'un)",
    r"\b(?:un vrai humain|une vraie personne|un etre humain)\b",
    r"\bpassez-moi (?:un|une) ",
    # de
    r"\b(?:mit )?(?:einem |einer )?(?:menschen|mitarbeiter(?:in)?|echten person|berater(?:in)?|"
    r"vorgesetzten) (?:sprechen|reden)\b",
    r"\b(?:echter|echten) (?:mensch|menschen|person)\b",
    r"\bverbinden sie mich\b",
    # pt
    r"\bfalar com (?:um |uma |alguem|o |a )?(?:atendente|pessoa|humano|agente|gerente|responsavel|"
    r"alguem)",
    r"\b(?:pessoa de verdade|atendente humano|pessoa real)\b",
    r"\bme (?:transfere|transfira|passa|passe) (?:para|pra) ",
    # it
    r"\bparlare con (?:un |una |qualcuno|un vero |una vera )?(?:operatore|operatrice|persona|umano|"
    r"responsabile|qualcuno)",
    r"\b(?:persona reale|persona vera|essere umano)\b",
    # nl
    r"\b(?:spreken|praten) met (?:een |iemand|een echte )?(?:medewerker|mens|persoon|iemand)",
    r"\bmet (?:een |een echte )?(?:medewerker|mens|persoon) (?:spreken|praten)\b",
    r"\b(?:echte|echt) (?:mens|persoon)\b",
]

_HANDOFF_RE = [re.compile(p) for p in _HANDOFF]
_ASKS_RE = [re.compile(p) for p in _ASKS_FOR_HUMAN]
# A negation shortly before a hand-off phrase means the AI says it cannot or will not hand off.
_DECLINED = re.compile(
    r"\b(?:can't|cannot|can not|unable to|not able to|won't|will not|don't|no puedo|no podemos|"
    r"ne peux pas|ne pouvons pas|ne peux|kann (?:sie |dich )?nicht|konnen (?:sie )?nicht|"
    r"nao (?:posso|consigo|podemos)|non posso|non possiamo|kan (?:je |u )?niet)\b[^.!?]{0,25}$"
)


@dataclass(frozen=True)
class PhraseMatch:
    """What matched, as normalized text (never logged: it is message content)."""

    phrase: str
    start: int


def _first(
    patterns: list[re.Pattern[str]], text: str, *, check_declined: bool
) -> PhraseMatch | None:
    folded = normalize(text)
    for pattern in patterns:
        for found in pattern.finditer(folded):
            if check_declined and _DECLINED.search(folded[: found.start()]):
                continue
            return PhraseMatch(found.group(0), found.start())
    return None


def reply_hands_off(reply: str) -> PhraseMatch | None:
    """The escalation phrasing in an AI reply ("let me connect you with a human"), if any."""
    return _first(_HANDOFF_RE, reply, check_declined=True)


def customer_requests_human(message: str) -> PhraseMatch | None:
    """A customer's request for a human ("can I talk to a real person?"), if any."""
    return _first(_ASKS_RE, message, check_declined=False)
