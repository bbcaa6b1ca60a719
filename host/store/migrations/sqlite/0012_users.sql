-- People who sign in to the web admin. Passwords are kept only as argon2id hashes
-- (PHC strings); e-mail addresses are stored lower case, one person per address.
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    -- sl, en: the language of the admin's pages for this person
    language TEXT NOT NULL,
    -- 1 for the operator, who manages companies and plugins
    operator BIGINT NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    disabled_at TEXT
);

-- Which companies a person works in, and as what: owner, staff, read_only.
CREATE TABLE memberships (
    user_id BIGINT NOT NULL REFERENCES users (id),
    company_id BIGINT NOT NULL REFERENCES companies (id),
    role TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (user_id, company_id)
);
CREATE INDEX memberships_by_company ON memberships (company_id);

-- Signed-in browsers. The cookie carries a random secret; only its SHA-256 is kept,
-- with the session's CSRF token for its forms.
CREATE TABLE web_sessions (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX web_sessions_by_user ON web_sessions (user_id);
