//! Category- and priority-aware reply templates that make no pricing, deadline or refund
//! commitments.
//!
//! The workspace's free-text policies are guidance for language models, not text for customers:
//! the offline engine cannot tell which sentence of them suits a reply (it used to quote the
//! best-matching sentence, which put "Urgent outages are escalated to the on-call engineer" into
//! replies about blog images), so no policy text is ever copied into a draft.

use opsflow_domain::guardrails::check_reply;
use opsflow_domain::{Category, Priority};

/// What a reply is built from.
#[derive(Debug, Clone, Copy)]
pub struct ReplyInput<'a> {
    /// The customer's full name (may be empty).
    pub customer_name: &'a str,
    /// The ticket subject.
    pub subject: &'a str,
    /// The category.
    pub category: Category,
    /// The priority.
    pub priority: Priority,
    /// The tenant's name, for the signature.
    pub tenant_name: &'a str,
}

fn first_name(full: &str) -> Option<&str> {
    let first = full.split_whitespace().next()?;
    // An email address or a placeholder such as "[email]" is not a name to greet.
    (first.chars().any(char::is_alphabetic) && !first.contains(['@', '[', ']'])).then_some(first)
}

fn opening(category: Category, topic: &str) -> String {
    match category {
        Category::Bug => format!(
            "Thank you for reporting the problem with {topic}. We are sorry for the trouble \
             it is causing."
        ),
        Category::FeatureRequest => format!(
            "Thank you for the suggestion regarding {topic}. It is helpful to hear what would \
             make things work better for you."
        ),
        Category::Billing => {
            format!(
                "Thank you for getting in touch about {topic}. We understand billing questions need a clear answer."
            )
        }
        Category::General => format!("Thank you for your message about {topic}."),
        Category::Other => format!("Thank you for your message about {topic}."),
    }
}

fn next_steps(category: Category, priority: Priority) -> &'static str {
    match (category, priority) {
        (Category::Bug, Priority::Urgent) => {
            "We have treated this as urgent: the team is investigating it now, and we will keep \
             you updated as we learn more."
        }
        (Category::Bug, Priority::High) => {
            "We have given this a high priority. A team member is looking into it and will \
             update you as soon as we know the cause."
        }
        (Category::Bug, _) => {
            "We have logged the issue and a team member will look into it. If you can share \
             the page address, the device and browser you used, or a screenshot, that will help \
             us reproduce it."
        }
        (Category::FeatureRequest, Priority::Urgent | Priority::High) => {
            "We understand this matters for your plans. We will review what is involved and \
             come back to you to agree the scope and the next steps."
        }
        (Category::FeatureRequest, _) => {
            "We have recorded the request, and we will review what it would involve and get \
             back to you with our thoughts and the next steps."
        }
        (Category::Billing, Priority::Urgent | Priority::High) => {
            "We have passed this to our billing team as a priority. They will review your \
             account and the charges in question and reply to you directly."
        }
        (Category::Billing, _) => {
            "Our billing team will review your account and reply to you with the details. If \
             you have an invoice number to hand, please add it to this ticket."
        }
        (Category::General, Priority::Urgent | Priority::High) => {
            "We have picked this up as a priority and a team member will take care of it or \
             come back to you with any questions."
        }
        (Category::General, _) => {
            "A team member will take care of this and reply with the details, or come back to \
             you if we need anything else."
        }
        (Category::Other, _) => {
            "We have passed your message to the right person on our team, who will follow up \
             if a reply is needed."
        }
    }
}

/// Drafts the reply.
pub fn draft(input: &ReplyInput<'_>) -> String {
    let greeting = first_name(input.customer_name)
        .map_or_else(|| "Hello,".to_owned(), |name| format!("Hi {name},"));
    let subject = input.subject.trim().replace(['"', '\n', '\r'], " ");
    // The subject is customer text: quote it only when it makes no commitment of its own.
    let topic = if !subject.is_empty() && subject.len() <= 120 && check_reply(&subject).is_empty() {
        format!("\"{subject}\"")
    } else {
        "your request".to_owned()
    };
    let mut body = vec![
        greeting,
        format!(
            "{} {}",
            opening(input.category, &topic),
            next_steps(input.category, input.priority)
        ),
    ];
    let tenant = input.tenant_name.trim();
    let signature = if tenant.is_empty() {
        "Kind regards,\nThe support team".to_owned()
    } else {
        format!("Kind regards,\nThe {tenant} team")
    };
    body.push(signature);
    body.join("\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(category: Category, priority: Priority) -> ReplyInput<'static> {
        ReplyInput {
            customer_name: "Jane Doe",
            subject: "Checkout broken",
            category,
            priority,
            tenant_name: "Acme Agency",
        }
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

    /// Only an urgent ticket's draft speaks of urgency or escalation.
    #[test]
    fn escalation_is_mentioned_only_for_urgent_tickets() {
        for category in Category::ALL {
            for priority in [Priority::Low, Priority::Medium, Priority::High] {
                let reply = draft(&input(*category, priority)).to_lowercase();
                for word in ["urgent", "escalat", "on-call", "on call", "around the clock"] {
                    assert!(!reply.contains(word), "{category}/{priority}: {reply}");
                }
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
}
