//! Hand-overs: which shipments the day's list takes, and when a carrier that tracks
//! nothing stops telling anything about a parcel.

use time::{Date, OffsetDateTime, Time};

/// Shipments created before this instant go onto the hand-over list of `date`: those of
/// that day and of earlier days not handed over yet (a list missed yesterday goes out
/// today), but none of a later day (a list for yesterday made this morning leaves
/// today's parcels for today's list). Days are UTC days until companies have a time zone.
pub fn handover_created_before(date: Date, now: OffsetDateTime) -> OffsetDateTime {
    day_after(date).min(now)
}

/// For a carrier without tracking: from when a parcel on the hand-over list of `date`,
/// handed over at `handed_over_at`, is in the carrier's hands and its status no longer
/// known: the next morning's pickup, or the hand-over itself when it came later (a
/// list for an earlier day sent late), so that `unknown` always follows `pending`.
pub fn untracked_from(date: Date, handed_over_at: OffsetDateTime) -> OffsetDateTime {
    day_after(date).max(handed_over_at)
}

fn day_after(date: Date) -> OffsetDateTime {
    date.next_day()
        .unwrap_or(date)
        .with_time(Time::MIDNIGHT)
        .assume_utc()
}

#[cfg(test)]
mod tests {
    use time::macros::{date, datetime};

    use super::*;

    #[test]
    fn a_list_takes_its_day_and_earlier_days_but_never_a_later_day() {
        let evening = datetime!(2026-12-03 18:00 UTC);
        assert_eq!(
            handover_created_before(date!(2026 - 12 - 03), evening),
            evening
        );
        assert_eq!(
            handover_created_before(date!(2026 - 12 - 02), evening),
            datetime!(2026-12-03 00:00 UTC)
        );
        // A list prepared for tomorrow takes what exists now.
        assert_eq!(
            handover_created_before(date!(2026 - 12 - 04), evening),
            evening
        );
    }

    #[test]
    fn an_untracked_parcel_is_in_the_carriers_hands_the_next_morning() {
        assert_eq!(
            untracked_from(date!(2026 - 12 - 31), datetime!(2026-12-31 17:00 UTC)),
            datetime!(2027-01-01 00:00 UTC)
        );
    }

    #[test]
    fn a_list_handed_over_late_is_out_of_sight_from_its_hand_over() {
        assert_eq!(
            untracked_from(date!(2026 - 12 - 02), datetime!(2026-12-03 09:30 UTC)),
            datetime!(2026-12-03 09:30 UTC)
        );
    }
}
