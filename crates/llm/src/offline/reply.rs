//! Category- and priority-aware reply templates (English, Spanish, German) that make no pricing,
//! deadline or refund commitments and honour the workspace's structured reply policies.
//!
//! The workspace's free-text policies are guidance for language models, not text for customers:
//! the offline engine cannot tell which sentence of them suits a reply (it used to quote the
//! best-matching sentence, which put "Urgent outages are escalated to the on-call engineer" into
//! replies about blog images), so no policy text is ever copied into a draft. The structured
//! policies are what it follows instead:
//! - the sign-off closes every draft (default: "The {workspace} team");
//! - the support hours are named where the reply promises follow-up;
//! - the status page is linked for bug reports of high or urgent priority;
//! - the draft is in the ticket's language when that is a workspace language the engine has
//!   templates for, else in the workspace's default language (English when it has none);
//! - a sentence containing a forbidden commitment is left out.

use opsflow_domain::guardrails::check_reply;
use opsflow_domain::policy::{ForbiddenCommitments, Weekday};
use opsflow_domain::{Category, Priority, ReplyPolicy};

/// What a reply is built from.
#[derive(Debug, Clone, Copy)]
pub struct ReplyInput<'a> {
    /// The customer's full name (may be empty).
    pub customer_name: &'a str,
    /// The ticket subject.
    pub subject: &'a str,
    /// The ticket body (only read to tell its language).
    pub body: &'a str,
    /// The category.
    pub category: Category,
    /// The priority.
    pub priority: Priority,
    /// The tenant's name, for the default signature.
    pub tenant_name: &'a str,
    /// The workspace's structured reply policies.
    pub policy: &'a ReplyPolicy,
}

/// A language the engine has templates for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// English (`en`).
    En,
    /// Spanish (`es`).
    Es,
    /// German (`de`).
    De,
}

impl Lang {
    const ALL: [Self; 3] = [Self::En, Self::Es, Self::De];

    /// The ISO 639-1 code.
    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Es => "es",
            Self::De => "de",
        }
    }

    fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.code() == code)
    }
}

/// The language of `text` among those the engine writes, by counting each language's common
/// words (NLTK stop words); `None` when no language clearly leads.
#[must_use]
pub fn detect_language(text: &str) -> Option<Lang> {
    let lower = text.to_lowercase();
    let words: Vec<&str> =
        lower.split(|c: char| !c.is_alphabetic()).filter(|w| !w.is_empty()).collect();
    let mut scores: Vec<(Lang, usize)> = Lang::ALL
        .into_iter()
        .map(|lang| {
            let stop = stop_words::get(lang.code());
            (lang, words.iter().filter(|w| stop.iter().any(|s| s == *w)).count())
        })
        .collect();
    scores.sort_by_key(|s| std::cmp::Reverse(s.1));
    let (best, top) = scores[0];
    let runner_up = scores[1].1;
    (top >= 2 && top > runner_up).then_some(best)
}

/// The language to draft in: the ticket's when the workspace lists it and the engine has
/// templates for it, else the workspace's default language, else English.
#[must_use]
pub fn choose_language(policy: &ReplyPolicy, ticket_text: &str) -> Lang {
    if let Some(lang) = detect_language(ticket_text)
        && policy.languages.contains(lang.code())
    {
        return lang;
    }
    Lang::from_code(policy.languages.default_code()).unwrap_or(Lang::En)
}

fn first_name(full: &str) -> Option<&str> {
    let first = full.split_whitespace().next()?;
    // An email address or a placeholder such as "[email]" is not a name to greet.
    (first.chars().any(char::is_alphabetic) && !first.contains(['@', '[', ']'])).then_some(first)
}

fn greeting(lang: Lang, name: Option<&str>) -> String {
    match (lang, name) {
        (Lang::En, Some(n)) => format!("Hi {n},"),
        (Lang::En, None) => "Hello,".to_owned(),
        (Lang::Es, Some(n)) => format!("Hola, {n}:"),
        (Lang::Es, None) => "Hola:".to_owned(),
        (Lang::De, Some(n)) => format!("Hallo {n},"),
        (Lang::De, None) => "Guten Tag,".to_owned(),
    }
}

const fn your_request(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "your request",
        Lang::Es => "su solicitud",
        Lang::De => "Ihrer Anfrage",
    }
}

fn opening(lang: Lang, category: Category, topic: &str) -> String {
    match (lang, category) {
        (Lang::En, Category::Bug) => format!(
            "Thank you for reporting the problem with {topic}. We are sorry for the trouble \
             it is causing."
        ),
        (Lang::En, Category::FeatureRequest) => format!(
            "Thank you for the suggestion regarding {topic}. It is helpful to hear what would \
             make things work better for you."
        ),
        (Lang::En, Category::Billing) => format!(
            "Thank you for getting in touch about {topic}. We understand billing questions \
             need a clear answer."
        ),
        (Lang::En, Category::General | Category::Other) => {
            format!("Thank you for your message about {topic}.")
        }
        (Lang::Es, Category::Bug) => format!(
            "Gracias por informarnos del problema con {topic}. Lamentamos las molestias que le \
             está causando."
        ),
        (Lang::Es, Category::FeatureRequest) => format!(
            "Gracias por su sugerencia sobre {topic}. Nos ayuda saber qué le facilitaría el \
             trabajo."
        ),
        (Lang::Es, Category::Billing) => format!(
            "Gracias por escribirnos sobre {topic}. Entendemos que las consultas de facturación \
             necesitan una respuesta clara."
        ),
        (Lang::Es, Category::General | Category::Other) => {
            format!("Gracias por su mensaje sobre {topic}.")
        }
        (Lang::De, Category::Bug) => format!(
            "Vielen Dank, dass Sie uns das Problem mit {topic} gemeldet haben. Es tut uns leid, \
             dass es Ihnen Schwierigkeiten bereitet."
        ),
        (Lang::De, Category::FeatureRequest) => format!(
            "Vielen Dank für Ihren Vorschlag zu {topic}. Es hilft uns zu hören, was Ihnen die \
             Arbeit erleichtern würde."
        ),
        (Lang::De, Category::Billing) => format!(
            "Vielen Dank für Ihre Nachricht zu {topic}. Wir wissen, dass Fragen zur Abrechnung \
             eine klare Antwort brauchen."
        ),
        (Lang::De, Category::General | Category::Other) => {
            format!("Vielen Dank für Ihre Nachricht zu {topic}.")
        }
    }
}

#[allow(clippy::too_many_lines)]
const fn next_steps(lang: Lang, category: Category, priority: Priority) -> &'static str {
    use Priority::{High, Urgent};
    match (lang, category, priority) {
        (Lang::En, Category::Bug, Urgent) => {
            "We have treated this as urgent: the team is investigating it now, and we will keep \
             you updated as we learn more."
        }
        (Lang::En, Category::Bug, High) => {
            "We have given this a high priority. A team member is looking into it and will \
             update you as soon as we know the cause."
        }
        (Lang::En, Category::Bug, _) => {
            "We have logged the issue and a team member will look into it. If you can share \
             the page address, the device and browser you used, or a screenshot, that will help \
             us reproduce it."
        }
        (Lang::En, Category::FeatureRequest, Urgent | High) => {
            "We understand this matters for your plans. We will review what is involved and \
             come back to you to agree the scope and the next steps."
        }
        (Lang::En, Category::FeatureRequest, _) => {
            "We have recorded the request, and we will review what it would involve and get \
             back to you with our thoughts and the next steps."
        }
        (Lang::En, Category::Billing, Urgent | High) => {
            "We have passed this to our billing team as a priority. They will review your \
             account and the charges in question and reply to you directly."
        }
        (Lang::En, Category::Billing, _) => {
            "Our billing team will review your account and reply to you with the details. If \
             you have an invoice number to hand, please add it to this ticket."
        }
        (Lang::En, Category::General, Urgent | High) => {
            "We have picked this up as a priority and a team member will take care of it or \
             come back to you with any questions."
        }
        (Lang::En, Category::General, _) => {
            "A team member will take care of this and reply with the details, or come back to \
             you if we need anything else."
        }
        (Lang::En, Category::Other, _) => {
            "We have passed your message to the right person on our team, who will follow up \
             if a reply is needed."
        }
        (Lang::Es, Category::Bug, Urgent) => {
            "Lo hemos tratado como urgente: el equipo lo está investigando ahora y le \
             mantendremos informado a medida que sepamos más."
        }
        (Lang::Es, Category::Bug, High) => {
            "Le hemos dado prioridad alta. Una persona del equipo lo está revisando y le \
             informará en cuanto conozcamos la causa."
        }
        (Lang::Es, Category::Bug, _) => {
            "Hemos registrado la incidencia y una persona del equipo la revisará. Si puede \
             indicarnos la dirección de la página, el dispositivo y el navegador que usó, o \
             enviarnos una captura de pantalla, nos ayudará a reproducirla."
        }
        (Lang::Es, Category::FeatureRequest, Urgent | High) => {
            "Entendemos que es importante para sus planes. Revisaremos lo que implica y le \
             contactaremos para acordar el alcance y los siguientes pasos."
        }
        (Lang::Es, Category::FeatureRequest, _) => {
            "Hemos registrado la petición; revisaremos lo que implicaría y le responderemos con \
             nuestra opinión y los siguientes pasos."
        }
        (Lang::Es, Category::Billing, Urgent | High) => {
            "Hemos pasado su consulta a nuestro equipo de facturación con prioridad. Revisarán \
             su cuenta y los cargos en cuestión y le responderán directamente."
        }
        (Lang::Es, Category::Billing, _) => {
            "Nuestro equipo de facturación revisará su cuenta y le responderá con los detalles. \
             Si tiene a mano un número de factura, añádalo a este ticket, por favor."
        }
        (Lang::Es, Category::General, Urgent | High) => {
            "Lo hemos recogido con prioridad y una persona del equipo se encargará o le \
             contactará si tiene alguna pregunta."
        }
        (Lang::Es, Category::General, _) => {
            "Una persona del equipo se encargará de ello y le responderá con los detalles, o le \
             contactará si necesitamos algo más."
        }
        (Lang::Es, Category::Other, _) => {
            "Hemos pasado su mensaje a la persona adecuada de nuestro equipo, que le responderá \
             si hace falta."
        }
        (Lang::De, Category::Bug, Urgent) => {
            "Wir behandeln das als dringend: Das Team untersucht es gerade, und wir halten Sie \
             über neue Erkenntnisse auf dem Laufenden."
        }
        (Lang::De, Category::Bug, High) => {
            "Wir haben dem eine hohe Priorität gegeben. Ein Teammitglied sieht es sich an und \
             meldet sich bei Ihnen, sobald wir die Ursache kennen."
        }
        (Lang::De, Category::Bug, _) => {
            "Wir haben das Problem erfasst, und ein Teammitglied sieht es sich an. Wenn Sie uns \
             die Seitenadresse, das Gerät und den Browser oder einen Screenshot schicken, hilft \
             uns das, es nachzustellen."
        }
        (Lang::De, Category::FeatureRequest, Urgent | High) => {
            "Wir verstehen, dass das für Ihre Planung wichtig ist. Wir prüfen den Aufwand und \
             melden uns, um den Umfang und die nächsten Schritte abzustimmen."
        }
        (Lang::De, Category::FeatureRequest, _) => {
            "Wir haben den Wunsch aufgenommen, prüfen den Aufwand und melden uns mit unserer \
             Einschätzung und den nächsten Schritten."
        }
        (Lang::De, Category::Billing, Urgent | High) => {
            "Wir haben das mit Vorrang an unser Abrechnungsteam gegeben. Es prüft Ihr Konto \
             und die betreffenden Buchungen und antwortet Ihnen direkt."
        }
        (Lang::De, Category::Billing, _) => {
            "Unser Abrechnungsteam prüft Ihr Konto und antwortet Ihnen mit den Einzelheiten. \
             Wenn Sie eine Rechnungsnummer zur Hand haben, fügen Sie sie bitte diesem Ticket \
             hinzu."
        }
        (Lang::De, Category::General, Urgent | High) => {
            "Wir haben das vorrangig aufgenommen. Ein Teammitglied kümmert sich darum oder \
             meldet sich bei Rückfragen."
        }
        (Lang::De, Category::General, _) => {
            "Ein Teammitglied kümmert sich darum und antwortet Ihnen mit den Einzelheiten oder \
             meldet sich, falls wir noch etwas brauchen."
        }
        (Lang::De, Category::Other, _) => {
            "Wir haben Ihre Nachricht an die richtige Person in unserem Team weitergegeben, die \
             sich bei Bedarf bei Ihnen meldet."
        }
    }
}

/// When nothing of the template may be said (every sentence names a forbidden commitment).
const fn fallback(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "A team member will look into this and reply to you.",
        Lang::Es => "Una persona del equipo lo revisará y le responderá.",
        Lang::De => "Ein Teammitglied sieht sich das an und antwortet Ihnen.",
    }
}

const fn day_name(lang: Lang, d: Weekday) -> &'static str {
    use Weekday::{Friday, Monday, Saturday, Sunday, Thursday, Tuesday, Wednesday};
    match (lang, d) {
        (Lang::En, _) => opsflow_domain::policy::english_day(d),
        (Lang::Es, Monday) => "lunes",
        (Lang::Es, Tuesday) => "martes",
        (Lang::Es, Wednesday) => "miércoles",
        (Lang::Es, Thursday) => "jueves",
        (Lang::Es, Friday) => "viernes",
        (Lang::Es, Saturday) => "sábado",
        (Lang::Es, Sunday) => "domingo",
        (Lang::De, Monday) => "Montag",
        (Lang::De, Tuesday) => "Dienstag",
        (Lang::De, Wednesday) => "Mittwoch",
        (Lang::De, Thursday) => "Donnerstag",
        (Lang::De, Friday) => "Freitag",
        (Lang::De, Saturday) => "Samstag",
        (Lang::De, Sunday) => "Sonntag",
    }
}

fn hours_sentence(lang: Lang, policy: &ReplyPolicy) -> Option<String> {
    let h = policy.support_hours.as_ref()?;
    Some(match lang {
        Lang::En => format!("Our team is available {}.", h.render()),
        Lang::Es => format!(
            "Nuestro equipo atiende de {}.",
            h.render_with(&|d| day_name(Lang::Es, d), " a ", " y ")
        ),
        Lang::De => format!(
            "Unser Team ist erreichbar: {}.",
            h.render_with(&|d| day_name(Lang::De, d), " bis ", " und ")
        ),
    })
}

fn status_sentence(lang: Lang, input: &ReplyInput<'_>) -> Option<String> {
    let url = input.policy.status_page_url.as_ref()?.as_str();
    let outage = input.category == Category::Bug
        && matches!(input.priority, Priority::High | Priority::Urgent);
    outage.then(|| match lang {
        Lang::En => format!("You can follow the current status at {url}"),
        Lang::Es => format!("Puede seguir el estado actual en {url}"),
        Lang::De => format!("Den aktuellen Stand finden Sie unter {url}"),
    })
}

fn signature(lang: Lang, input: &ReplyInput<'_>) -> String {
    let regards = match lang {
        Lang::En => "Kind regards,",
        Lang::Es => "Saludos cordiales,",
        Lang::De => "Viele Grüße",
    };
    let name = match (&input.policy.sign_off, input.tenant_name.trim()) {
        (Some(s), _) => s.as_str().to_owned(),
        (None, "") => match lang {
            Lang::En => "The support team".to_owned(),
            Lang::Es => "El equipo de soporte".to_owned(),
            Lang::De => "Ihr Support-Team".to_owned(),
        },
        (None, tenant) => match lang {
            Lang::En => format!("The {tenant} team"),
            Lang::Es => format!("El equipo de {tenant}"),
            Lang::De => format!("Ihr Team von {tenant}"),
        },
    };
    format!("{regards}\n{name}")
}

/// `text` without the sentences that name a forbidden commitment.
fn without_forbidden(text: &str, forbidden: &ForbiddenCommitments) -> String {
    if forbidden.phrases().is_empty() {
        return text.to_owned();
    }
    let mut kept = Vec::new();
    let mut start = 0;
    let bytes: Vec<(usize, char)> = text.char_indices().collect();
    for (k, &(i, c)) in bytes.iter().enumerate() {
        let ends = matches!(c, '.' | '!' | '?')
            && bytes.get(k + 1).is_none_or(|&(_, next)| next.is_whitespace());
        if ends {
            kept.push(text[start..=i].trim().to_owned());
            start = i + c.len_utf8();
        }
    }
    kept.push(text[start..].trim().to_owned());
    kept.retain(|s| !s.is_empty() && forbidden.found_in(s).is_empty());
    kept.join(" ")
}

/// Drafts the reply.
#[must_use]
pub fn draft(input: &ReplyInput<'_>) -> String {
    let forbidden = &input.policy.forbidden_commitments;
    let lang = choose_language(input.policy, &format!("{}\n{}", input.subject, input.body));
    let name = first_name(input.customer_name).filter(|n| forbidden.found_in(n).is_empty());
    let subject = input.subject.trim().replace(['"', '\n', '\r'], " ");
    // The subject is customer text: quote it only when it makes no commitment of its own.
    let topic = if !subject.is_empty()
        && subject.len() <= 120
        && check_reply(&subject).is_empty()
        && forbidden.found_in(&subject).is_empty()
    {
        format!("\"{subject}\"")
    } else {
        your_request(lang).to_owned()
    };
    let mut main = without_forbidden(
        &format!(
            "{} {}",
            opening(lang, input.category, &topic),
            next_steps(lang, input.category, input.priority)
        ),
        forbidden,
    );
    if main.is_empty() {
        main = without_forbidden(fallback(lang), forbidden);
    }
    let mut body = vec![greeting(lang, name)];
    if !main.is_empty() {
        body.push(main);
    }
    let extra: Vec<String> = [hours_sentence(lang, input.policy), status_sentence(lang, input)]
        .into_iter()
        .flatten()
        .map(|s| without_forbidden(&s, forbidden))
        .filter(|s| !s.is_empty())
        .collect();
    if !extra.is_empty() {
        body.push(extra.join(" "));
    }
    body.push(signature(lang, input));
    body.join("\n\n")
}

#[cfg(test)]
mod tests {
    use opsflow_domain::policy::{
        ClockTime, ForbiddenCommitments, Languages, SignOff, StatusPageUrl, SupportHours,
        TimeZoneName,
    };

    use super::*;

    static EMPTY: std::sync::LazyLock<ReplyPolicy> = std::sync::LazyLock::new(ReplyPolicy::default);

    fn input(category: Category, priority: Priority) -> ReplyInput<'static> {
        ReplyInput {
            customer_name: "Jane Doe",
            subject: "Checkout broken",
            body: "The checkout page shows an error when I pay.",
            category,
            priority,
            tenant_name: "Acme Agency",
            policy: &EMPTY,
        }
    }

    fn weekdays() -> SupportHours {
        SupportHours::new(
            vec![
                Weekday::Monday,
                Weekday::Tuesday,
                Weekday::Wednesday,
                Weekday::Thursday,
                Weekday::Friday,
            ],
            ClockTime::parse("09:00").expect("time"),
            ClockTime::parse("17:00").expect("time"),
            TimeZoneName::parse("Europe/Berlin").expect("zone"),
        )
        .expect("hours")
    }

    #[test]
    fn no_template_trips_the_guardrails() {
        for category in Category::ALL {
            for priority in Priority::ALL {
                let reply = draft(&input(*category, *priority));
                assert_eq!(check_reply(&reply), [], "{category}/{priority}: {reply}");
                assert!(reply.starts_with("Hi Jane,"), "{reply}");
                assert!(reply.ends_with("The Acme Agency team"), "{reply}");
            }
        }
    }

    #[test]
    fn replies_use_the_subject_category_and_priority() {
        let bug = draft(&input(Category::Bug, Priority::Urgent));
        assert!(bug.contains("\"Checkout broken\""));
        assert!(bug.contains("urgent"));
        let billing = draft(&input(Category::Billing, Priority::Low));
        assert!(billing.contains("billing team"));
        assert_ne!(draft(&input(Category::Bug, Priority::Low)), bug);
    }

    /// Only an urgent ticket's draft speaks of urgency or escalation, in every language and
    /// with every policy field set.
    #[test]
    fn escalation_is_mentioned_only_for_urgent_tickets() {
        let policy = ReplyPolicy {
            support_hours: Some(weekdays()),
            status_page_url: Some(
                StatusPageUrl::parse("https://status.acme.example").expect("url"),
            ),
            languages: Languages::parse(&["en", "es", "de"]).expect("languages"),
            ..ReplyPolicy::default()
        };
        let bodies = [
            "The checkout page shows an error when I pay.",
            "La página de pago muestra un error cuando pago y no puedo terminar el pedido.",
            "Die Seite zeigt einen Fehler, wenn ich bezahle, und ich kann nicht bestellen.",
        ];
        for body in bodies {
            for category in Category::ALL {
                for priority in [Priority::Low, Priority::Medium, Priority::High] {
                    let mut i = input(*category, priority);
                    i.body = body;
                    i.policy = &policy;
                    let reply = draft(&i).to_lowercase();
                    for word in [
                        "urgent",
                        "escalat",
                        "on-call",
                        "on call",
                        "around the clock",
                        "urgente",
                        "dringend",
                        "eskal",
                    ] {
                        assert!(!reply.contains(word), "{category}/{priority}: {reply}");
                    }
                }
                let mut urgent = input(*category, Priority::Urgent);
                urgent.body = body;
                urgent.policy = &policy;
                assert_eq!(check_reply(&draft(&urgent)), []);
            }
        }
    }

    #[test]
    fn unsafe_subjects_are_not_echoed() {
        let mut i = input(Category::Billing, Priority::High);
        i.subject = "I want a full refund of $200";
        let reply = draft(&i);
        assert!(reply.contains("your request"));
        assert_eq!(check_reply(&reply), []);
    }

    #[test]
    fn missing_names_fall_back_politely() {
        let mut i = input(Category::General, Priority::Low);
        i.customer_name = "[email]";
        i.tenant_name = "";
        let reply = draft(&i);
        assert!(reply.starts_with("Hello,"));
        assert!(reply.ends_with("The support team"));
    }

    #[test]
    fn the_sign_off_closes_every_draft() {
        let policy = ReplyPolicy {
            sign_off: Some(SignOff::new("Maria, Acme Support").expect("sign-off")),
            ..ReplyPolicy::default()
        };
        for category in Category::ALL {
            for priority in Priority::ALL {
                let mut i = input(*category, *priority);
                i.policy = &policy;
                let reply = draft(&i);
                assert!(reply.ends_with("Kind regards,\nMaria, Acme Support"), "{reply}");
                assert!(!reply.contains("Acme Agency team"), "{reply}");
            }
        }
    }

    #[test]
    fn support_hours_are_named_where_follow_up_is_promised() {
        let policy = ReplyPolicy { support_hours: Some(weekdays()), ..ReplyPolicy::default() };
        let mut i = input(Category::General, Priority::Medium);
        assert!(!draft(&i).contains("available"));
        i.policy = &policy;
        let reply = draft(&i);
        assert!(
            reply.contains("Our team is available Monday to Friday, 09:00–17:00 (Europe/Berlin)."),
            "{reply}"
        );
    }

    #[test]
    fn the_status_page_is_linked_for_high_and_urgent_bugs_only() {
        let policy = ReplyPolicy {
            status_page_url: Some(
                StatusPageUrl::parse("https://status.acme.example").expect("url"),
            ),
            ..ReplyPolicy::default()
        };
        for category in Category::ALL {
            for priority in Priority::ALL {
                let mut i = input(*category, *priority);
                i.policy = &policy;
                let linked = draft(&i).contains("https://status.acme.example");
                let want = *category == Category::Bug
                    && matches!(priority, Priority::High | Priority::Urgent);
                assert_eq!(linked, want, "{category}/{priority}");
            }
        }
    }

    #[test]
    fn drafts_in_the_tickets_language_when_the_workspace_speaks_it() {
        let both = ReplyPolicy {
            languages: Languages::parse(&["en", "es"]).expect("languages"),
            support_hours: Some(weekdays()),
            ..ReplyPolicy::default()
        };
        let mut i = input(Category::Billing, Priority::Low);
        i.subject = "Factura duplicada";
        i.body = "Hola, me han cobrado dos veces la factura de este mes y no sé por qué. \
                  ¿Pueden revisarlo, por favor?";
        i.policy = &both;
        let reply = draft(&i);
        assert!(reply.starts_with("Hola, Jane:"), "{reply}");
        assert!(reply.contains("equipo de facturación"), "{reply}");
        assert!(reply.contains("de lunes a viernes, 09:00–17:00 (Europe/Berlin)"), "{reply}");
        assert!(reply.ends_with("Saludos cordiales,\nEl equipo de Acme Agency"), "{reply}");

        // A Spanish ticket in an English-only workspace gets an English draft.
        let english = ReplyPolicy::default();
        i.policy = &english;
        assert!(draft(&i).starts_with("Hi Jane,"));

        // A German workspace drafts in German when the ticket's language is not one of its own.
        let german = ReplyPolicy {
            languages: Languages::parse(&["de"]).expect("languages"),
            ..ReplyPolicy::default()
        };
        let mut e = input(Category::Bug, Priority::Low);
        e.policy = &german;
        let reply = draft(&e);
        assert!(reply.starts_with("Hallo Jane,"), "{reply}");
        assert!(reply.ends_with("Viele Grüße\nIhr Team von Acme Agency"), "{reply}");

        // A default language without templates falls back to English.
        let french = ReplyPolicy {
            languages: Languages::parse(&["fr"]).expect("languages"),
            ..ReplyPolicy::default()
        };
        e.policy = &french;
        assert!(draft(&e).starts_with("Hi Jane,"));
    }

    #[test]
    fn language_detection_needs_a_clear_lead() {
        assert_eq!(detect_language("The site is down and we cannot log in."), Some(Lang::En));
        assert_eq!(
            detect_language("Die Rechnung ist falsch und ich habe sie nicht bestellt."),
            Some(Lang::De)
        );
        assert_eq!(
            detect_language("No puedo entrar en mi cuenta desde ayer por la tarde."),
            Some(Lang::Es)
        );
        assert_eq!(detect_language("ERR_502"), None);
    }

    #[test]
    fn forbidden_commitments_are_never_written() {
        let phrases = ["billing team", "priority", "invoice number", "team member", "status"];
        let policy = ReplyPolicy {
            forbidden_commitments: ForbiddenCommitments::parse(&phrases).expect("phrases"),
            status_page_url: Some(
                StatusPageUrl::parse("https://status.acme.example").expect("url"),
            ),
            support_hours: Some(weekdays()),
            ..ReplyPolicy::default()
        };
        for category in Category::ALL {
            for priority in Priority::ALL {
                let mut i = input(*category, *priority);
                i.subject = "Invoice number wrong and billing team silent";
                i.policy = &policy;
                let reply = draft(&i);
                assert_eq!(
                    policy.forbidden_commitments.found_in(&reply),
                    Vec::<&opsflow_domain::policy::ForbiddenPhrase>::new(),
                    "{category}/{priority}: {reply}"
                );
                assert!(reply.starts_with("Hi Jane,") && reply.ends_with("The Acme Agency team"));
            }
        }
        // Without the policy the same draft says them.
        let billing = draft(&input(Category::Billing, Priority::Low));
        assert!(billing.contains("billing team") && billing.contains("invoice number"));
    }
}
