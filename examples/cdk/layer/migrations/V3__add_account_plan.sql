ALTER TABLE accounts ADD COLUMN plan text NOT NULL DEFAULT 'free';

ALTER TABLE accounts
    ADD CONSTRAINT accounts_plan_check CHECK (plan IN ('free', 'team', 'enterprise'));
