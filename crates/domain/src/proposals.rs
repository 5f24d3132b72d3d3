//! Proposal statuses (the seeds' codes), who may move a proposal where, and expiry.

use serde::{Deserialize, Serialize};
use time::Date;

use crate::validation::FieldProblem;

/// Codes are the guide's: users bookmark `/admin/proposals?status=4`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ProposalStatus {
    Viewed,
    Declined,
    Accepted,
    Sent,
    Revised,
    Draft,
    SentManually,
}

/// Who asks for a change: the transition table differs for staff and for the client portal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProposalEvent {
    /// Staff sent it by e-mail (`/send`).
    SentByEmail,
    /// The client opened the portal link.
    ClientViewed,
    ClientAccepted,
    ClientDeclined,
    /// Staff set the status by hand (`/status`).
    Manual(ProposalStatus),
}

impl ProposalStatus {
    pub const ALL: [ProposalStatus; 7] = [
        ProposalStatus::Draft,
        ProposalStatus::Sent,
        ProposalStatus::Viewed,
        ProposalStatus::SentManually,
        ProposalStatus::Accepted,
        ProposalStatus::Declined,
        ProposalStatus::Revised,
    ];

    pub fn code(self) -> i32 {
        match self {
            ProposalStatus::Viewed => 1,
            ProposalStatus::Declined => 2,
            ProposalStatus::Accepted => 3,
            ProposalStatus::Sent => 4,
            ProposalStatus::Revised => 5,
            ProposalStatus::Draft => 6,
            ProposalStatus::SentManually => 7,
        }
    }

    pub fn from_code(code: i32) -> Option<ProposalStatus> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    /// The API name (`status` field).
    pub fn name(self) -> &'static str {
        match self {
            ProposalStatus::Viewed => "viewed",
            ProposalStatus::Declined => "declined",
            ProposalStatus::Accepted => "accepted",
            ProposalStatus::Sent => "sent",
            ProposalStatus::Revised => "revised",
            ProposalStatus::Draft => "draft",
            ProposalStatus::SentManually => "sent_manually",
        }
    }

    /// A code (`4`) or a name (`sent`, also the guide's synonyms `reviewed`, `rejected`).
    pub fn parse(raw: &str) -> Result<ProposalStatus, FieldProblem> {
        let s = raw.trim().to_ascii_lowercase();
        if let Ok(code) = s.parse::<i32>() {
            return Self::from_code(code).ok_or_else(|| FieldProblem::new("invalid_status", format!("no proposal status has code {code} (1–7)")));
        }
        let alias = match s.as_str() {
            "reviewed" => "viewed",
            "rejected" => "declined",
            "sent manually" => "sent_manually",
            other => other,
        };
        Self::ALL
            .into_iter()
            .find(|st| st.name() == alias)
            .ok_or_else(|| FieldProblem::new("invalid_status", format!("`{}` is not a proposal status", raw.trim())))
    }

    /// Once accepted the commercial content is frozen; it may only be converted.
    pub fn lines_locked(self) -> bool {
        self == ProposalStatus::Accepted
    }

    /// Sent in any way and still waiting for the client's answer.
    pub fn awaiting_client(self) -> bool {
        matches!(self, ProposalStatus::Sent | ProposalStatus::Viewed | ProposalStatus::SentManually)
    }
}

/// The one transition table. `Ok(new status)` or `Err(reason)` for a 409.
pub fn transition(from: ProposalStatus, event: ProposalEvent) -> Result<ProposalStatus, String> {
    use ProposalStatus::*;
    let to = match event {
        ProposalEvent::SentByEmail => match from {
            Draft | Revised | Sent | SentManually => Some(Sent),
            // Sending again after the client looked keeps "Viewed": it is the stronger signal.
            Viewed => Some(Viewed),
            Accepted | Declined => None,
        },
        ProposalEvent::ClientViewed => match from {
            Sent | SentManually => Some(Viewed),
            other => Some(other),
        },
        ProposalEvent::ClientAccepted => from.awaiting_client().then_some(Accepted),
        ProposalEvent::ClientDeclined => from.awaiting_client().then_some(Declined),
        ProposalEvent::Manual(to) => {
            let allowed = match to {
                // Sent and Viewed are facts (an e-mail went out, the client opened it): not set by hand.
                Sent | Viewed => false,
                SentManually => matches!(from, Draft | Revised),
                Accepted | Declined => from.awaiting_client() || from == Revised,
                Revised => matches!(from, Sent | Viewed | SentManually | Declined),
                Draft => matches!(from, Revised | Declined),
            };
            allowed.then_some(to)
        }
    };
    to.ok_or_else(|| match event {
        ProposalEvent::Manual(to) if matches!(to, Sent | Viewed) => {
            format!("`{}` is set by sending the proposal or by the client opening it; use status 7 to mark it sent without e-mail", to.name())
        }
        ProposalEvent::Manual(to) => format!("a {} proposal cannot be set to {}", from.name(), to.name()),
        ProposalEvent::SentByEmail => format!("a {} proposal cannot be sent; revise it first", from.name()),
        _ => format!("this proposal is {} and no longer awaits an answer", from.name()),
    })
}

/// Past `open_till` and still unanswered (accepted and declined proposals never expire).
pub fn is_expired(status: ProposalStatus, open_till: Option<Date>, today: Date) -> bool {
    !matches!(status, ProposalStatus::Accepted | ProposalStatus::Declined) && open_till.is_some_and(|d| d < today)
}

/// `PRO-000123`.
pub fn format_number(prefix: &str, number: i64, padding: usize) -> String {
    format!("{prefix}{number:0padding$}")
}

#[cfg(test)]
mod tests {
    use super::ProposalEvent::*;
    use super::ProposalStatus::*;
    use super::*;
    use time::macros::date;

    #[test]
    fn codes_and_names_round_trip_as_in_the_guide() {
        let expected = [(Draft, 6), (Sent, 4), (Viewed, 1), (SentManually, 7), (Accepted, 3), (Declined, 2), (Revised, 5)];
        for (status, code) in expected {
            assert_eq!(status.code(), code);
            assert_eq!(ProposalStatus::parse(&code.to_string()).unwrap(), status);
            assert_eq!(ProposalStatus::parse(status.name()).unwrap(), status);
        }
        assert_eq!(ProposalStatus::parse(" Reviewed ").unwrap(), Viewed);
        assert_eq!(ProposalStatus::parse("rejected").unwrap(), Declined);
        assert_eq!(ProposalStatus::parse("8").unwrap_err().code, "invalid_status");
        assert_eq!(ProposalStatus::parse("won").unwrap_err().code, "invalid_status");
    }

    #[test]
    fn sending_moves_drafts_and_revisions_to_sent() {
        assert_eq!(transition(Draft, SentByEmail), Ok(Sent));
        assert_eq!(transition(Revised, SentByEmail), Ok(Sent));
        assert_eq!(transition(SentManually, SentByEmail), Ok(Sent));
        assert_eq!(transition(Viewed, SentByEmail), Ok(Viewed));
        assert!(transition(Accepted, SentByEmail).is_err());
        assert!(transition(Declined, SentByEmail).is_err());
    }

    #[test]
    fn the_client_can_answer_only_a_sent_proposal() {
        for from in [Sent, Viewed, SentManually] {
            assert_eq!(transition(from, ClientAccepted), Ok(Accepted));
            assert_eq!(transition(from, ClientDeclined), Ok(Declined));
        }
        for from in [Draft, Revised, Accepted, Declined] {
            assert!(transition(from, ClientAccepted).is_err(), "{from:?}");
            assert!(transition(from, ClientDeclined).is_err(), "{from:?}");
        }
        assert_eq!(transition(Sent, ClientViewed), Ok(Viewed));
        assert_eq!(transition(Accepted, ClientViewed), Ok(Accepted));
    }

    #[test]
    fn staff_set_statuses_by_hand_within_the_table() {
        assert_eq!(transition(Draft, Manual(SentManually)), Ok(SentManually));
        assert_eq!(transition(Sent, Manual(Accepted)), Ok(Accepted));
        assert_eq!(transition(Viewed, Manual(Revised)), Ok(Revised));
        assert_eq!(transition(Declined, Manual(Revised)), Ok(Revised));
        assert_eq!(transition(Revised, Manual(Draft)), Ok(Draft));
        assert!(transition(Draft, Manual(Sent)).unwrap_err().contains("status 7"));
        assert!(transition(Draft, Manual(Viewed)).is_err());
        assert!(transition(Draft, Manual(Accepted)).is_err());
        for to in ProposalStatus::ALL {
            assert!(transition(Accepted, Manual(to)).is_err(), "accepted is final: {to:?}");
        }
    }

    #[test]
    fn open_proposals_expire_after_open_till() {
        let today = date!(2026 - 11 - 23);
        assert!(is_expired(Sent, Some(date!(2026 - 11 - 22)), today));
        assert!(!is_expired(Sent, Some(today), today));
        assert!(!is_expired(Sent, None, today));
        assert!(!is_expired(Accepted, Some(date!(2020 - 01 - 01)), today));
        assert!(is_expired(Draft, Some(date!(2026 - 01 - 01)), today));
    }

    #[test]
    fn numbers_are_prefixed_and_padded() {
        assert_eq!(format_number("PRO-", 123, 6), "PRO-000123");
        assert_eq!(format_number("", 1234567, 3), "1234567");
    }
}
