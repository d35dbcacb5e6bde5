"""The conversation basics: menu, help, language, framework, greetings, bad input."""

from __future__ import annotations

from bot.cases.buttons import Unanswered
from bot.conversation.framework import FULL_TEXT, FrameworkButton, FrameworkFlow
from bot.core.callback import CallbackData
from bot.core.effects import Button, Keyboard
from bot.core.flow import Flow, GoOn
from bot.core.i18n import N_, VARIANTS, Translator
from bot.core.router import Router
from bot.core.telegram_html import escape
from bot.core.turn import Turn

router = Router("basics")


class MenuIntent(CallbackData, prefix="intent"):
    """A button of the menu: intent:<intent>."""

    intent: str


class Language(CallbackData, prefix="lang"):
    """lang:<variant or auto>; a variant no longer offered asks again."""

    choice: str


router.flow(FrameworkFlow())

# Intents a menu button may trigger: anything else in button data is ignored.
MENU_INTENTS = ("report_problem", "check_action_plan", "commitment_status", "talk_to_coach")
_MENU_LABELS = {
    "report_problem": N_("Report a problem"),
    "check_action_plan": N_("My actions in the plan"),
    "commitment_status": N_("Committee commitments"),
    "talk_to_coach": N_("Talk to a coach"),
}
_VARIANT_NAMES = {"fr": "Français", "ary": "الدارجة", "ary-Latn": "Darija (3arbiya b l7rouf)"}


def menu_keyboard(t: Translator) -> Keyboard:
    return tuple(
        (Button(t.gettext(_MENU_LABELS[intent]), MenuIntent(intent).pack()),)
        for intent in MENU_INTENTS
    )


@router.intent("menu")
async def menu(turn: Turn) -> None:
    await turn.reply(
        turn._("How can I help you? Write your question in your own words, or choose below."),
        menu_keyboard(turn.t),
    )


async def _menu(turn: Turn) -> None:
    await turn.dispatch_intent("menu")


@router.button(MenuIntent, stale=_menu)
async def intent_button(turn: Turn, button: MenuIntent) -> None:
    if button.intent in MENU_INTENTS:
        await turn.dispatch_intent(button.intent)
    else:
        await turn.dispatch_intent("menu")


@router.intent("greeting")
async def greeting(turn: Turn) -> None:
    await turn.reply(
        turn._("Hello! Write your question in your own words, or choose below."),
        menu_keyboard(turn.t),
    )


@router.intent("goodbye")
async def goodbye(turn: Turn) -> None:
    await turn.reply(turn._("Thank you for calling. You can write again at any time."))


@router.intent("thanks")
async def thanks(turn: Turn) -> None:
    await turn.reply(turn._("You are welcome. Write whenever you need anything else."))


@router.intent("acknowledge")
async def acknowledge(turn: Turn) -> None:
    # "ok", "mzyan", good news: nothing is asked, so nothing is opened; a short word back.
    await turn.reply(turn._("Noted, thank you. Write whenever you need anything else."))


@router.command("help", "aide")
@router.intent("help")
async def help_(turn: Turn, _argument: str = "") -> None:
    await turn.reply(
        turn._(
            "Write your question in French or in Darija, in Arabic or Latin letters. "
            "Commands:\n"
            "/menu: what the line can do\n"
            "/lang: choose your language\n"
            "/cadre: read the framework of the line\n"
            "/cancel: leave what we are doing\n"
            "/privacy: what the line keeps about you (/mydata, /forget, /stop)"
        )
    )


@router.command("menu")
async def menu_command(turn: Turn, _argument: str) -> None:
    await menu(turn)


@router.command("start")
async def start(turn: Turn, argument: str) -> None:
    if argument:  # a deep link t.me/<bot>?start=<token>: an invitation
        from bot.invitations.service import accept

        await accept(turn, argument)
    # The call was reopened by /start, so the framework was already shown: nothing to add.
    await menu(turn)


@router.command("cadre", "framework", "9anoun")
async def framework(turn: Turn, _argument: str) -> None:
    await turn.reply(turn._(FULL_TEXT))


@router.button(FrameworkButton, stale=N_("Already noted, thank you."))
async def framework_button(turn: Turn, button: FrameworkButton) -> None:
    # Outside the framework flow: a button from an earlier message.
    if button.choice == "full" and button.variant is None:
        await turn.reply(turn._(FULL_TEXT))
    else:
        await turn.reply(turn._("Already noted, thank you."))


@router.command("cancel", "annuler")
async def cancel(turn: Turn, _argument: str) -> None:
    if turn.flow is None or turn.flow.name == "framework":
        await turn.reply(turn._("There is nothing to cancel."))
        return
    flow = turn.engine.routes.flows.get(turn.flow.name)
    turn.end_flow()
    await turn.reply(turn._(flow.left_text if flow is not None else Flow.left_text))
    await menu(turn)


@router.button(GoOn)
async def go_on(turn: Turn, button: GoOn) -> None:
    """ "Go on" / "Leave it", offered after a question answered in the middle of a flow."""
    await turn.engine.go_on(turn, button.choice)


@router.command("lang", "langue", "lougha")
async def choose_language(turn: Turn, argument: str) -> None:
    if argument in VARIANTS or argument == "auto":
        await set_language(turn, Language(argument))
        return
    rows = [(Button(_VARIANT_NAMES[v], Language(v).pack()),) for v in VARIANTS]
    rows.append((Button(turn._("Follow how I write"), Language("auto").pack()),))
    await turn.reply(turn._("Which language do you prefer?"), tuple(rows))


async def _choose_language(turn: Turn) -> None:
    await choose_language(turn, "")


@router.button(Language, stale=_choose_language)
async def set_language(turn: Turn, button: Language) -> None:
    choice = button.choice
    if choice == "auto":
        turn.actor.lang_chosen = False
        await turn.reply(turn._("I will answer in the language you write in."))
    elif choice in VARIANTS:
        turn.actor.lang = choice
        turn.actor.lang_chosen = True
        await turn.reply(turn._("From now on I will answer in this language."))
    else:
        await choose_language(turn, "")


@router.intent("unsupported")
async def unsupported(turn: Turn) -> None:
    await turn.reply(
        turn._(
            "I cannot read this kind of message. Please write your question, or send a voice "
            "note, a photo or a document."
        )
    )


@router.intent("empty")
async def empty(turn: Turn) -> None:
    await turn.reply(turn._("Your message is empty. Write your question in a few words."))


@router.intent("too_long")
async def too_long(turn: Turn) -> None:
    await turn.reply(
        turn._(
            "Your message is too long for me ({limit} characters at most). It is saved; please "
            "send the essential in a shorter message.",
            limit=turn.engine.settings.max_text_length,
        )
    )


@router.on_attachment
async def attachment(turn: Turn) -> None:
    # No open case to join (a case takes it before this): kept, and offered to a coach, who
    # would otherwise never see it.
    await turn.reply(
        turn._("Received, thank you. Shall I pass it on to a coach?"),
        (
            (Button(turn._("Send it to a coach"), Unanswered("send", turn.message.id).pack()),),
            (Button(turn._("No, thank you"), Unanswered("no").pack()),),
        ),
    )


_ROLE_LABELS = {
    "actor": N_("local actor"),
    "committee_member": N_("committee member"),
    "coach": N_("coach"),
    "admin": N_("administrator"),
}


@router.command("whoami", "id")
async def whoami(turn: Turn, _argument: str) -> None:
    # What an operator needs to give someone a role with `hotline role <id> coach`.
    await turn.reply(
        turn._(
            "Your id on this line: <code>{id}</code>. Role: {role}.",
            id=escape(turn.actor.external_id),
            role=turn._(_ROLE_LABELS.get(turn.actor.role, "local actor")),
        )
    )
