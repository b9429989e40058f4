"""The strings of the subscribe pages, in Dutch and English (keys prefixed ``subscribe.``):
the form, the confirmation, preferences, unsubscribing, and the pages of a link that
does not (or no longer) work."""

STRINGS: dict[str, dict[str, str]] = {
    "nl": {
        "subscribe.title": "Aanmelden",
        "subscribe.intro": (
            "Ontvang {title} elke week per mail: het nieuws over de onderwerpen die je kiest."
            " Je krijgt eerst een mail met een link om je aanmelding te bevestigen; pas"
            " daarna sturen we je iets."
        ),
        "subscribe.email": "E-mailadres",
        "subscribe.name": "Naam (mag leeg blijven)",
        "subscribe.language": "Taal van de mail",
        "subscribe.watchlists": "Onderwerpen",
        "subscribe.weekday": "Op welke dag",
        "subscribe.weekday_hint": "De mail komt rond {at} ({timezone}).",
        "subscribe.consent": (
            "Ik ga ermee akkoord dat {title} mijn e-mailadres, naam en keuzes bewaart om mij"
            " de digest te sturen. Afmelden kan altijd, met de link onder elke mail."
        ),
        "subscribe.submit": "Aanmelden",
        "subscribe.unavailable": (
            "Aanmelden kan hier nog niet: de beheerder moet eerst base_url instellen, het"
            " adres van deze site, zodat de links in de mail werken."
        ),
        "subscribe.no_watchlists": "Er zijn nog geen onderwerpen om je voor aan te melden.",
        "subscribe.error.form": "Controleer de velden hieronder.",
        "subscribe.error.email": "Vul een geldig e-mailadres in.",
        "subscribe.error.name": "Een naam is hoogstens 200 tekens, zonder stuurtekens.",
        "subscribe.error.language": "Kies Nederlands of Engels.",
        "subscribe.error.watchlists": "Kies minstens één onderwerp.",
        "subscribe.error.weekday": "Kies een dag.",
        "subscribe.error.consent": "Zonder je toestemming kunnen we je niets sturen.",
        "subscribe.error.mail": (
            "De bevestigingsmail kon nu niet worden verstuurd. Probeer het later opnieuw."
        ),
        "subscribe.too_many": (
            "Te veel aanmeldingen in korte tijd. Probeer het over een uur opnieuw."
        ),
        "subscribe.sent.title": "Kijk in je mailbox",
        "subscribe.sent.body": (
            "We hebben een mail gestuurd naar {email}. Open de link daarin binnen drie"
            " dagen om je aanmelding te bevestigen. Zonder bevestiging gebeurt er niets."
        ),
        "subscribe.sent.missing": (
            "Geen mail gekregen? Kijk in je map met ongewenste mail, of meld je opnieuw aan."
        ),
        "subscribe.confirm.title": "Aanmelding bevestigen",
        "subscribe.confirm.intro": "Bevestig dat {email} {title} wil ontvangen:",
        "subscribe.confirm.submit": "Ja, bevestigen",
        "subscribe.confirm.done": "Je aanmelding is bevestigd.",
        "subscribe.confirm.first": "Je eerste mail komt op {weekday} rond {at}.",
        "subscribe.confirm.config": (
            "Dit adres staat ook in de instellingen van de beheerder; die bepalen wat je ontvangt."
        ),
        "subscribe.summary.watchlists": "Onderwerpen: {watchlists}",
        "subscribe.summary.when": "Elke {weekday} rond {at}, in het {language}",
        "subscribe.manage.title": "Je abonnement",
        "subscribe.manage.intro": "Wat {email} ontvangt van {title}.",
        "subscribe.manage.submit": "Opslaan",
        "subscribe.manage.saved": "Je keuzes zijn opgeslagen.",
        "subscribe.manage.config": (
            "Dit abonnement staat in de instellingen van de beheerder: vraag hem of haar om"
            " het te wijzigen. Afmelden kan hier wel."
        ),
        "subscribe.manage.link": "Je abonnement beheren",
        "subscribe.unsubscribe.title": "Afmelden",
        "subscribe.unsubscribe.intro": "Wil je {email} afmelden voor {title}?",
        "subscribe.unsubscribe.submit": "Afmelden",
        "subscribe.unsubscribe.elsewhere": "Liever iets anders ontvangen?",
        "subscribe.unsubscribe.done": "Je bent afgemeld. Je ontvangt geen mail meer van {title}.",
        "subscribe.unsubscribe.again": "Toch weer aanmelden",
        "subscribe.link.title": "Deze link werkt niet",
        "subscribe.link.invalid": (
            "Deze link klopt niet, of hoort bij een abonnement dat niet meer bestaat."
            " Kopieer hem in zijn geheel uit de mail, of open hem daar met een klik."
        ),
        "subscribe.link.expired": (
            "Deze link is verlopen: een bevestigingslink werkt drie dagen. Meld je opnieuw"
            " aan om een nieuwe te krijgen."
        ),
        "subscribe.link.used": (
            "Deze link is al gebruikt, of een nieuwere mail heeft hem vervangen. Is je"
            " aanmelding bevestigd, dan hoef je niets meer te doen."
        ),
        "subscribe.link.old": (
            "Deze link komt uit een oudere mail en werkt niet meer. Gebruik de link in je"
            " nieuwste mail."
        ),
        "subscribe.link.unsubscribed": (
            "Je bent afgemeld; deze link werkt daarom niet meer. Meld je opnieuw aan als"
            " je de mail weer wilt ontvangen."
        ),
        "subscribe.link.subscribe": "Naar het aanmeldformulier",
        "subscribe.language.nl": "Nederlands",
        "subscribe.language.en": "Engels",
    },
    "en": {
        "subscribe.title": "Subscribe",
        "subscribe.intro": (
            "Get {title} by e-mail every week: the news on the topics you choose. First"
            " you get a mail with a link to confirm; only then do we send you anything."
        ),
        "subscribe.email": "E-mail address",
        "subscribe.name": "Name (optional)",
        "subscribe.language": "Language of the mail",
        "subscribe.watchlists": "Topics",
        "subscribe.weekday": "On which day",
        "subscribe.weekday_hint": "The mail comes around {at} ({timezone}).",
        "subscribe.consent": (
            "I agree that {title} keeps my e-mail address, name and choices to send me the"
            " digest. I can unsubscribe at any time, with the link below every mail."
        ),
        "subscribe.submit": "Subscribe",
        "subscribe.unavailable": (
            "Subscribing is not possible here yet: the admin first has to set base_url, the"
            " address of this site, so that the links in the mail work."
        ),
        "subscribe.no_watchlists": "There are no topics to subscribe to yet.",
        "subscribe.error.form": "Please check the fields below.",
        "subscribe.error.email": "Enter a valid e-mail address.",
        "subscribe.error.name": "A name is at most 200 characters, without control characters.",
        "subscribe.error.language": "Choose Dutch or English.",
        "subscribe.error.watchlists": "Choose at least one topic.",
        "subscribe.error.weekday": "Choose a day.",
        "subscribe.error.consent": "Without your consent we cannot send you anything.",
        "subscribe.error.mail": "The confirmation mail could not be sent now. Try again later.",
        "subscribe.too_many": "Too many subscriptions in a short time. Try again in an hour.",
        "subscribe.sent.title": "Check your mailbox",
        "subscribe.sent.body": (
            "We have sent a mail to {email}. Open the link in it within three days to"
            " confirm your subscription. Without a confirmation nothing happens."
        ),
        "subscribe.sent.missing": ("No mail? Look in your spam folder, or subscribe again."),
        "subscribe.confirm.title": "Confirm your subscription",
        "subscribe.confirm.intro": "Confirm that {email} would like to receive {title}:",
        "subscribe.confirm.submit": "Yes, confirm",
        "subscribe.confirm.done": "Your subscription is confirmed.",
        "subscribe.confirm.first": "Your first mail comes on {weekday} around {at}.",
        "subscribe.confirm.config": (
            "This address is also in the admin's settings; those decide what you receive."
        ),
        "subscribe.summary.watchlists": "Topics: {watchlists}",
        "subscribe.summary.when": "Every {weekday} around {at}, in {language}",
        "subscribe.manage.title": "Your subscription",
        "subscribe.manage.intro": "What {email} receives from {title}.",
        "subscribe.manage.submit": "Save",
        "subscribe.manage.saved": "Your choices are saved.",
        "subscribe.manage.config": (
            "This subscription is in the admin's settings: ask them to change it. You can"
            " unsubscribe here."
        ),
        "subscribe.manage.link": "Manage your subscription",
        "subscribe.unsubscribe.title": "Unsubscribe",
        "subscribe.unsubscribe.intro": "Unsubscribe {email} from {title}?",
        "subscribe.unsubscribe.submit": "Unsubscribe",
        "subscribe.unsubscribe.elsewhere": "Rather receive something else?",
        "subscribe.unsubscribe.done": (
            "You are unsubscribed. You will get no more mail from {title}."
        ),
        "subscribe.unsubscribe.again": "Subscribe again",
        "subscribe.link.title": "This link does not work",
        "subscribe.link.invalid": (
            "This link is not right, or belongs to a subscription that no longer exists."
            " Copy it whole from the mail, or open it there with a click."
        ),
        "subscribe.link.expired": (
            "This link has expired: a confirmation link works for three days. Subscribe"
            " again to get a new one."
        ),
        "subscribe.link.used": (
            "This link has been used already, or a newer mail replaced it. If your"
            " subscription is confirmed, there is nothing more to do."
        ),
        "subscribe.link.old": (
            "This link comes from an older mail and no longer works. Use the link in your"
            " latest mail."
        ),
        "subscribe.link.unsubscribed": (
            "You have unsubscribed, so this link no longer works. Subscribe again if you"
            " would like the mail again."
        ),
        "subscribe.link.subscribe": "To the subscribe form",
        "subscribe.language.nl": "Dutch",
        "subscribe.language.en": "English",
    },
}
