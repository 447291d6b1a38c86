"""A general appointments scheduler any agency uses: slots with capacity, holds that expire,
bookings, reminders and no-shows (docs/appointments.md)."""
