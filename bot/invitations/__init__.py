"""Invitation links: a coach or an admin invites a committee member or a commitment owner."""
