//! Deterministic, varied ticket text for seeding: agency support requests built from templates,
//! so search terms hit realistic shares of a tenant's tickets.

use opsflow_domain::{Category, Channel, Priority, TicketStatus};
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};

const PAGES: &[&str] = &[
    "checkout", "contact", "booking", "homepage", "blog", "pricing", "product", "gallery",
    "careers", "login", "menu", "events", "shop", "team", "FAQ",
];
const DEVICES: &[&str] =
    &["iPhone 13", "iPhone 15", "Pixel 7", "Galaxy S23", "iPad", "MacBook", "Windows laptop"];
const BROWSERS: &[&str] = &["Safari", "Chrome", "Firefox", "Edge"];
const FEATURES: &[&str] = &[
    "newsletter signup",
    "contact form",
    "search bar",
    "image slider",
    "booking calendar",
    "live chat",
    "cookie banner",
    "payment form",
    "hamburger menu",
    "map widget",
    "review widget",
];
const ERRORS: &[&str] = &["500", "502", "503", "404", "403", "timeout", "SSL certificate"];
const DAYS: &[&str] =
    &["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
const PLANS: &[&str] = &["Starter", "Growth", "Pro", "Enterprise"];
const MONTHS: &[&str] = &[
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const TOOLS: &[&str] =
    &["Mailchimp", "HubSpot", "Salesforce", "Google Sheets", "Zapier", "Shopify"];
const SERVICES: &[&str] = &[
    "SEO reporting",
    "uptime monitoring",
    "monthly analytics",
    "social media scheduling",
    "email hosting",
];
const DELIVERABLES: &[&str] =
    &["brochure design", "logo", "landing page", "website", "newsletter template", "photo shoot"];
const TOPICS: &[&str] =
    &["summer sale", "spring collection", "holiday", "product launch", "open day", "anniversary"];
const EXPORTS: &[&str] = &["leads", "contact form submissions", "orders", "newsletter subscribers"];

const FIRST_NAMES: &[&str] = &[
    "Maria", "Tom", "Hannah", "Luca", "Grace", "Oliver", "Sofia", "James", "Emma", "Noah",
    "Isabel", "Daniel", "Chloe", "Ahmed", "Olivia", "Liam", "Mia", "Lucas", "Amelia", "Ethan",
    "Ava", "Mateo", "Zoe", "Leo", "Nina", "Omar", "Clara", "Felix", "Ines", "Jonas", "Laura",
    "Marco", "Elena", "Samuel", "Yara", "Tariq", "Freya", "Hugo", "Alice", "Ben", "Carmen",
    "David", "Eva", "Finn", "Greta", "Henry", "Ivy", "Jack", "Kira", "Lena", "Max", "Nora",
    "Oscar", "Paula", "Quinn", "Rosa", "Simon", "Tara", "Umar", "Vera",
];
const LAST_NAMES: &[&str] = &[
    "Lopez", "Becker", "Kim", "Romano", "Okafor", "Grant", "Martins", "Carter", "Wilson",
    "Fischer", "Ruiz", "Novak", "Dubois", "Hassan", "Smith", "Jones", "Garcia", "Muller", "Rossi",
    "Silva", "Nielsen", "Kowalski", "Tanaka", "Patel", "Nguyen", "Schmidt", "Moreau", "Costa",
    "Berg", "Ivanova", "Murphy", "OBrien", "Walsh", "Jansen", "Visser", "Horvat", "Ferreira",
    "Andersen", "Larsen", "Weber", "Wagner", "Hoffmann", "Keller", "Vogel", "Brunner", "Marino",
    "Greco", "Conti", "Santos", "Pereira", "Alvarez", "Torres", "Ramos", "Castro", "Ortiz",
    "Fuchs", "Lange", "Richter", "Wolf", "Sauer",
];
const BUSINESSES: &[&str] = &[
    "dental",
    "bakery",
    "law",
    "fitness",
    "realty",
    "studio",
    "motors",
    "florist",
    "coffee",
    "wines",
    "clinic",
    "events",
    "hotel",
    "salon",
    "garage",
    "books",
    "yoga",
    "architects",
    "interiors",
    "trattoria",
];
const AGENT_NAMES: &[&str] = &[
    "Sam Rivera",
    "Priya Shah",
    "Alex Morgan",
    "Jordan Lee",
    "Casey Brooks",
    "Robin Hart",
    "Taylor Quinn",
    "Jamie Fox",
];

/// Search queries for `GET /api/tickets?q=…`: common words, pairs, prefixes and surnames.
pub const QUERIES: &[&str] = &[
    "invoice",
    "checkout error",
    "newsletter",
    "iphone safari",
    "vat",
    "booking calendar",
    "martins",
    "export csv",
    "password",
    "slow",
    "mailchimp",
    "novak",
];

/// A display name for the `i`-th agent.
pub fn agent_name(i: usize) -> &'static str {
    AGENT_NAMES[i % AGENT_NAMES.len()]
}

/// One generated ticket's text and labels.
pub struct GeneratedTicket {
    pub subject: String,
    pub body: String,
    pub channel: Channel,
    pub customer_name: String,
    pub customer_email: String,
    pub category: Category,
    pub priority: Priority,
}

/// A seeded generator: the same seed gives the same tickets.
pub struct Corpus {
    rng: StdRng,
}

impl Corpus {
    pub fn new(seed: u64) -> Self {
        Self { rng: StdRng::seed_from_u64(seed) }
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.rng.random_range(0..items.len())]
    }

    /// A uniformly random index below `n` (`n` > 0).
    pub fn index(&mut self, n: usize) -> usize {
        self.rng.random_range(0..n)
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p.clamp(0.0, 1.0))
    }

    /// Fills `{page}`, `{device}`, … in a template.
    fn fill(&mut self, template: &str) -> String {
        let mut out = String::with_capacity(template.len() + 32);
        let mut rest = template;
        while let Some(start) = rest.find('{') {
            out.push_str(&rest[..start]);
            let Some(len) = rest[start..].find('}') else {
                out.push_str(&rest[start..]);
                return out;
            };
            let slot = &rest[start + 1..start + len];
            let value = match slot {
                "page" => self.pick(PAGES).to_owned(),
                "device" => self.pick(DEVICES).to_owned(),
                "browser" => self.pick(BROWSERS).to_owned(),
                "feature" => self.pick(FEATURES).to_owned(),
                "error" => self.pick(ERRORS).to_owned(),
                "day" => self.pick(DAYS).to_owned(),
                "plan" => self.pick(PLANS).to_owned(),
                "month" => self.pick(MONTHS).to_owned(),
                "tool" => self.pick(TOOLS).to_owned(),
                "service" => self.pick(SERVICES).to_owned(),
                "deliverable" => self.pick(DELIVERABLES).to_owned(),
                "topic" => self.pick(TOPICS).to_owned(),
                "export" => self.pick(EXPORTS).to_owned(),
                "first" => self.pick(FIRST_NAMES).to_owned(),
                "inv" => self.rng.random_range(1000..10_000).to_string(),
                "n" => self.rng.random_range(2..30).to_string(),
                other => format!("{{{other}}}"),
            };
            out.push_str(&value);
            rest = &rest[start + len + 1..];
        }
        out.push_str(rest);
        out
    }

    /// A status with a realistic spread: most tickets are open or already dealt with.
    pub fn status(&mut self) -> TicketStatus {
        match self.rng.random_range(0..100) {
            0..25 => TicketStatus::New,
            25..55 => TicketStatus::Open,
            55..70 => TicketStatus::Pending,
            70..85 => TicketStatus::Replied,
            _ => TicketStatus::Closed,
        }
    }

    /// A new ticket.
    pub fn ticket(&mut self) -> GeneratedTicket {
        let category = match self.rng.random_range(0..100) {
            0..30 => Category::Bug,
            30..50 => Category::Billing,
            50..70 => Category::FeatureRequest,
            70..90 => Category::General,
            _ => Category::Other,
        };
        let (subjects, sentences) = templates(category);
        let template = self.pick(subjects);
        let subject = self.fill(template);
        let first = self.pick(FIRST_NAMES);
        let last = self.pick(LAST_NAMES);
        let business = self.pick(BUSINESSES);
        let mut body = String::from(self.pick(&["Hi team,", "Hello,", "Hi,", "Good morning,"]));
        let count = self.rng.random_range(2..=4);
        let mut used: Vec<usize> = Vec::with_capacity(count);
        for _ in 0..count {
            let mut i = self.index(sentences.len());
            while used.contains(&i) {
                i = (i + 1) % sentences.len();
            }
            used.push(i);
            body.push(' ');
            body.push_str(&self.fill(sentences[i]));
        }
        let sign_off = match self.index(3) {
            0 => format!("Thanks, {first}"),
            1 => format!("Best regards, {first} {last}"),
            _ => format!("Cheers, {first}"),
        };
        body.push_str("\n\n");
        body.push_str(&sign_off);
        let urgent_words = ["down", "losing", "urgent", "503", "500"];
        let priority = if category == Category::Bug
            && urgent_words.iter().any(|w| subject.contains(w) || body.contains(w))
        {
            if self.chance(0.6) { Priority::Urgent } else { Priority::High }
        } else {
            match self.rng.random_range(0..100) {
                0..35 => Priority::Low,
                35..75 => Priority::Medium,
                75..95 => Priority::High,
                _ => Priority::Urgent,
            }
        };
        let channel = match self.rng.random_range(0..100) {
            0..50 => Channel::Email,
            50..80 => Channel::Web,
            80..92 => Channel::Chat,
            92..98 => Channel::Phone,
            _ => Channel::Api,
        };
        GeneratedTicket {
            subject,
            body,
            channel,
            customer_name: format!("{first} {last}"),
            customer_email: format!(
                "{}@{}{business}.example",
                first.to_ascii_lowercase(),
                last.to_ascii_lowercase()
            ),
            category,
            priority,
        }
    }
}

fn templates(category: Category) -> (&'static [&'static str], &'static [&'static str]) {
    match category {
        Category::Bug => (
            &[
                "{page} page returns a {error} error",
                "{feature} not working on {device}",
                "Images missing on the {page} page",
                "{page} page very slow since the update",
                "Contact form emails not arriving",
                "Broken links on the {page} page",
                "Site is down - {error} error",
                "Password reset email never arrives",
                "Checkout error after entering card details",
            ],
            &[
                "Since {day} morning the {page} page shows a {error} error for every visitor.",
                "On my {device} with {browser} the {feature} does nothing when tapped.",
                "Customers have mentioned it {n} times this week.",
                "We are losing orders while this is broken.",
                "It works fine on desktop but not on mobile.",
                "I cleared the cache and tried another browser, same result.",
                "The problem started right after the last plugin update.",
                "Could you look at this as soon as possible?",
                "Our campaign goes live soon, so this is urgent for us.",
                "The page takes about {n} seconds to load, which is far too slow.",
            ],
        ),
        Category::Billing => (
            &[
                "Invoice #{inv} charged twice",
                "Update the VAT number on our invoices",
                "Question about the {month} invoice",
                "Card payment for the {plan} plan failed",
                "Please send a copy of invoice #{inv}",
                "Change the billing contact to our finance team",
            ],
            &[
                "Our card statement shows invoice #{inv} was charged twice on the {n}th.",
                "Our company VAT number changed, please use the new one from now on.",
                "Could you send the invoice as a PDF to our accountant?",
                "We were billed for the {plan} plan but we downgraded in {month}.",
                "The retainer amount looks different from last month.",
                "Please tell us how this will be corrected.",
                "Our finance team needs this before the end of {month}.",
            ],
        ),
        Category::FeatureRequest => (
            &[
                "Add a {feature} to the {page} page",
                "Request: export {export} to CSV",
                "Can we add a Spanish version of the {page} page?",
                "Integrate the {feature} with {tool}",
                "New section for the {topic} campaign on the homepage",
            ],
            &[
                "We would love a {feature} on the {page} page that feeds into {tool}.",
                "No rush, just something for the next sprint.",
                "Our sales team wants to load the {export} into their CRM every month.",
                "A lot of our visitors come from Spain and Mexico.",
                "Could you send us a quote and a rough timeline?",
                "Something similar to what we saw on a competitor's site would be great.",
                "It would save our team about {n} hours a month.",
            ],
        ),
        Category::General => (
            &[
                "How do I update the opening hours on the site?",
                "Which plan includes {service}?",
                "How can I add a new team member to the CMS?",
                "Where do I find the {service} report?",
                "Can I edit the {page} page myself?",
            ],
            &[
                "We change our opening hours for the holidays.",
                "Is there a way for me to edit this myself in the CMS, or should I send it to you?",
                "We are on the {plan} plan at the moment.",
                "A short how-to would be perfect.",
                "Thanks in advance for your help.",
                "I looked in the settings but could not find the {service} option.",
            ],
        ),
        Category::Other => (
            &[
                "Thank you for the new {deliverable}",
                "Meeting next week about the {topic} campaign",
                "New contact person at our company",
                "Feedback on the {deliverable} draft",
            ],
            &[
                "Just wanted to say the new {deliverable} looks fantastic.",
                "Our clients love it.",
                "Could we schedule a call on {day} to talk about the {topic} campaign?",
                "From now on please contact {first} for anything related to the website.",
                "Great work from the whole team!",
                "We have a few small comments on the {deliverable}, nothing urgent.",
            ],
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_tickets_and_slots_are_filled() {
        let (mut a, mut b) = (Corpus::new(7), Corpus::new(7));
        for _ in 0..500 {
            let (x, y) = (a.ticket(), b.ticket());
            assert_eq!((&x.subject, &x.body), (&y.subject, &y.body));
            assert!(!x.subject.contains('{') && !x.body.contains('{'), "{}", x.body);
            assert!(x.subject.chars().count() <= 200);
            assert!(
                opsflow_domain::Email::parse(&x.customer_email).is_ok(),
                "{}",
                x.customer_email
            );
        }
    }

    #[test]
    fn search_queries_match_a_share_of_tickets() {
        let mut c = Corpus::new(1);
        let tickets: Vec<_> = (0..5_000).map(|_| c.ticket()).collect();
        for q in QUERIES {
            let words = opsflow_domain::TicketQuery::search_words(q);
            let hits = tickets
                .iter()
                .filter(|t| {
                    let kw = opsflow_domain::search::keywords([
                        t.subject.as_str(),
                        t.body.as_str(),
                        t.customer_name.as_str(),
                        t.customer_email.as_str(),
                    ]);
                    opsflow_domain::search::matches(&kw, &words)
                })
                .count();
            assert!(hits > 0 && hits < 2_500, "query {q:?} matches {hits} of 5000");
        }
    }
}
