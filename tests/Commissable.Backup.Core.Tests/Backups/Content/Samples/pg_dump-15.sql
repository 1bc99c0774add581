--
-- PostgreSQL database dump
--

\restrict QGeRaQACUbd3WP3U6R1NJIzeqOPd7ulJUKJDFeXr5G7USwpNrhKnSB4AMNsHSY9

-- Dumped from database version 15.18 (Debian 15.18-0+deb12u1)
-- Dumped by pg_dump version 15.18 (Debian 15.18-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: audit; Type: SCHEMA; Schema: -; Owner: postgres
--

CREATE SCHEMA audit;


ALTER SCHEMA audit OWNER TO postgres;

--
-- Name: citext; Type: EXTENSION; Schema: -; Owner: -
--

CREATE EXTENSION IF NOT EXISTS citext WITH SCHEMA public;


--
-- Name: EXTENSION citext; Type: COMMENT; Schema: -; Owner: 
--

COMMENT ON EXTENSION citext IS 'data type for case-insensitive character strings';


--
-- Name: uuid-ossp; Type: EXTENSION; Schema: -; Owner: -
--

CREATE EXTENSION IF NOT EXISTS "uuid-ossp" WITH SCHEMA public;


--
-- Name: EXTENSION "uuid-ossp"; Type: COMMENT; Schema: -; Owner: 
--

COMMENT ON EXTENSION "uuid-ossp" IS 'generate universally unique identifiers (UUIDs)';


--
-- Name: Status; Type: TYPE; Schema: public; Owner: postgres
--

CREATE TYPE public."Status" AS ENUM (
    'open',
    'won',
    'lost'
);


ALTER TYPE public."Status" OWNER TO postgres;

--
-- Name: dots(); Type: FUNCTION; Schema: public; Owner: postgres
--

CREATE FUNCTION public.dots() RETURNS text
    LANGUAGE sql
    AS $$
SELECT '
\.
;'::text
$$;


ALTER FUNCTION public.dots() OWNER TO postgres;

--
-- Name: FUNCTION dots(); Type: COMMENT; Schema: public; Owner: postgres
--

COMMENT ON FUNCTION public.dots() IS 'Returns a text whose second line is "\." and
whose third is a semicolon;';


--
-- Name: touch(); Type: FUNCTION; Schema: public; Owner: postgres
--

CREATE FUNCTION public.touch() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
  NEW.notes := coalesce(NEW.notes, 'x;y');
  RETURN NEW;
END;
$$;


ALTER FUNCTION public.touch() OWNER TO postgres;

--
-- Name: weird(text); Type: FUNCTION; Schema: public; Owner: postgres
--

CREATE FUNCTION public.weird(a text) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $_$ SELECT $1 || ';' || 'it''s' $_$;


ALTER FUNCTION public.weird(a text) OWNER TO postgres;

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: log; Type: TABLE; Schema: audit; Owner: postgres
--

CREATE TABLE audit.log (
    id bigint NOT NULL,
    msg text
);


ALTER TABLE audit.log OWNER TO postgres;

--
-- Name: log_id_seq; Type: SEQUENCE; Schema: audit; Owner: postgres
--

CREATE SEQUENCE audit.log_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


ALTER TABLE audit.log_id_seq OWNER TO postgres;

--
-- Name: log_id_seq; Type: SEQUENCE OWNED BY; Schema: audit; Owner: postgres
--

ALTER SEQUENCE audit.log_id_seq OWNED BY audit.log.id;


--
-- Name: Contact; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public."Contact" (
    id integer NOT NULL,
    "tenantId" text NOT NULL,
    email public.citext,
    notes text,
    avatar bytea,
    status public."Status" DEFAULT 'open'::public."Status" NOT NULL,
    "createdAt" timestamp with time zone DEFAULT now() NOT NULL,
    amount numeric(12,2),
    score double precision,
    "emailLower" text GENERATED ALWAYS AS (lower((email)::text)) STORED
);


ALTER TABLE public."Contact" OWNER TO postgres;

--
-- Name: TABLE "Contact"; Type: COMMENT; Schema: public; Owner: postgres
--

COMMENT ON TABLE public."Contact" IS 'People; one per tenant''s customer';


--
-- Name: COLUMN "Contact".notes; Type: COMMENT; Schema: public; Owner: postgres
--

COMMENT ON COLUMN public."Contact".notes IS 'free text';


--
-- Name: Contact_id_seq; Type: SEQUENCE; Schema: public; Owner: postgres
--

CREATE SEQUENCE public."Contact_id_seq"
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


ALTER TABLE public."Contact_id_seq" OWNER TO postgres;

--
-- Name: Contact_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: postgres
--

ALTER SEQUENCE public."Contact_id_seq" OWNED BY public."Contact".id;


--
-- Name: Tenant; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public."Tenant" (
    id text NOT NULL,
    name text NOT NULL
);


ALTER TABLE public."Tenant" OWNER TO postgres;

--
-- Name: _prisma_migrations; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public._prisma_migrations (
    id character varying(36) NOT NULL,
    checksum character varying(64) NOT NULL,
    finished_at timestamp with time zone,
    migration_name character varying(255) NOT NULL,
    logs text,
    rolled_back_at timestamp with time zone,
    started_at timestamp with time zone DEFAULT now() NOT NULL,
    applied_steps_count integer DEFAULT 0 NOT NULL
);


ALTER TABLE public._prisma_migrations OWNER TO postgres;

--
-- Name: contact_count; Type: VIEW; Schema: public; Owner: postgres
--

CREATE VIEW public.contact_count AS
 SELECT "Contact"."tenantId",
    count(*) AS count
   FROM public."Contact"
  GROUP BY "Contact"."tenantId";


ALTER TABLE public.contact_count OWNER TO postgres;

--
-- Name: contact_stale; Type: MATERIALIZED VIEW; Schema: public; Owner: postgres
--

CREATE MATERIALIZED VIEW public.contact_stale AS
 SELECT "Contact"."tenantId"
   FROM public."Contact"
  WITH NO DATA;


ALTER TABLE public.contact_stale OWNER TO postgres;

--
-- Name: contact_summary; Type: MATERIALIZED VIEW; Schema: public; Owner: postgres
--

CREATE MATERIALIZED VIEW public.contact_summary AS
 SELECT "Contact"."tenantId",
    count(*) AS n
   FROM public."Contact"
  GROUP BY "Contact"."tenantId"
  WITH NO DATA;


ALTER TABLE public.contact_summary OWNER TO postgres;

--
-- Name: empty_table; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.empty_table (
    id integer
);


ALTER TABLE public.empty_table OWNER TO postgres;

--
-- Name: event; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.event (
    id bigint NOT NULL,
    "tenantId" text NOT NULL,
    at date NOT NULL,
    payload jsonb
)
PARTITION BY RANGE (at);


ALTER TABLE public.event OWNER TO postgres;

--
-- Name: event_2025; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.event_2025 (
    id bigint NOT NULL,
    "tenantId" text NOT NULL,
    at date NOT NULL,
    payload jsonb
)
PARTITION BY LIST ("tenantId");


ALTER TABLE public.event_2025 OWNER TO postgres;

--
-- Name: event_2025_a; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.event_2025_a (
    id bigint NOT NULL,
    "tenantId" text NOT NULL,
    at date NOT NULL,
    payload jsonb
);


ALTER TABLE public.event_2025_a OWNER TO postgres;

--
-- Name: event_2025_rest; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.event_2025_rest (
    id bigint NOT NULL,
    "tenantId" text NOT NULL,
    at date NOT NULL,
    payload jsonb
);


ALTER TABLE public.event_2025_rest OWNER TO postgres;

--
-- Name: event_2026; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.event_2026 (
    id bigint NOT NULL,
    "tenantId" text NOT NULL,
    at date NOT NULL,
    payload jsonb
);


ALTER TABLE public.event_2026 OWNER TO postgres;

--
-- Name: event_empty; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.event_empty (
    id bigint NOT NULL,
    "tenantId" text NOT NULL,
    at date NOT NULL,
    payload jsonb
);


ALTER TABLE public.event_empty OWNER TO postgres;

--
-- Name: event_id_seq; Type: SEQUENCE; Schema: public; Owner: postgres
--

ALTER TABLE public.event ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME public.event_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: invoice_no_seq; Type: SEQUENCE; Schema: public; Owner: postgres
--

CREATE SEQUENCE public.invoice_no_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


ALTER TABLE public.invoice_no_seq OWNER TO postgres;

--
-- Name: invoice; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.invoice (
    no bigint DEFAULT nextval('public.invoice_no_seq'::regclass) NOT NULL,
    "tenantId" text,
    total numeric,
    CONSTRAINT invoice_total_check CHECK (((total >= (0)::numeric) AND (total < (1000000)::numeric)))
);


ALTER TABLE public.invoice OWNER TO postgres;

--
-- Name: no_columns; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.no_columns (
);


ALTER TABLE public.no_columns OWNER TO postgres;

--
-- Name: event_2025; Type: TABLE ATTACH; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.event ATTACH PARTITION public.event_2025 FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');


--
-- Name: event_2025_a; Type: TABLE ATTACH; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.event_2025 ATTACH PARTITION public.event_2025_a FOR VALUES IN ('t_1');


--
-- Name: event_2025_rest; Type: TABLE ATTACH; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.event_2025 ATTACH PARTITION public.event_2025_rest DEFAULT;


--
-- Name: event_2026; Type: TABLE ATTACH; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.event ATTACH PARTITION public.event_2026 FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');


--
-- Name: event_empty; Type: TABLE ATTACH; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.event ATTACH PARTITION public.event_empty FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');


--
-- Name: log id; Type: DEFAULT; Schema: audit; Owner: postgres
--

ALTER TABLE ONLY audit.log ALTER COLUMN id SET DEFAULT nextval('audit.log_id_seq'::regclass);


--
-- Name: Contact id; Type: DEFAULT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public."Contact" ALTER COLUMN id SET DEFAULT nextval('public."Contact_id_seq"'::regclass);


--
-- Data for Name: log; Type: TABLE DATA; Schema: audit; Owner: postgres
--

COPY audit.log (id, msg) FROM stdin;
1	hello
\.


--
-- Data for Name: Contact; Type: TABLE DATA; Schema: public; Owner: postgres
--

COPY public."Contact" (id, "tenantId", email, notes, avatar, status, "createdAt", amount, score) FROM stdin;
1	t_1	a@x.io	line1\nline2\ttab\\back	\\xdeadbeef	won	2025-03-01 10:00:00.5+00	12.50	0.1
2	t_1	b@x.io	x;y	\N	open	2025-03-02 10:00:00+00	\N	1e+300
3	t_2	c@x.io	\\.	\\x	lost	2025-03-03 10:00:00+00	-3.00	NaN
4	t 3 ü	d@x.io	semi;colon 'quote'	\N	open	2025-03-04 10:00:00+00	0.00	0
\.


--
-- Data for Name: Tenant; Type: TABLE DATA; Schema: public; Owner: postgres
--

COPY public."Tenant" (id, name) FROM stdin;
t_1	One
t_2	Two
t 3 ü	Three\ttab
\.


--
-- Data for Name: _prisma_migrations; Type: TABLE DATA; Schema: public; Owner: postgres
--

COPY public._prisma_migrations (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count) FROM stdin;
1	c1	2025-01-01 00:00:00+00	20250101000000_init	\N	\N	2026-12-06 21:55:58.612336+00	1
2	c2	2025-02-01 00:00:00+00	20250201000000_contacts	\N	\N	2026-12-06 21:55:58.612336+00	1
3	c3	\N	20250301000000_failed	\N	\N	2026-12-06 21:55:58.612336+00	0
4	c4	2025-03-02 00:00:00+00	20250302000000_rolled	\N	2025-03-03 00:00:00+00	2026-12-06 21:55:58.612336+00	1
\.


--
-- Data for Name: empty_table; Type: TABLE DATA; Schema: public; Owner: postgres
--

COPY public.empty_table (id) FROM stdin;
\.


--
-- Data for Name: event_2025_a; Type: TABLE DATA; Schema: public; Owner: postgres
--

COPY public.event_2025_a (id, "tenantId", at, payload) FROM stdin;
1	t_1	2025-02-01	{"a": 1}
\.


--
-- Data for Name: event_2025_rest; Type: TABLE DATA; Schema: public; Owner: postgres
--

COPY public.event_2025_rest (id, "tenantId", at, payload) FROM stdin;
2	t_2	2025-02-01	\N
3	t_2	2025-05-01	{"b": "x\\ty"}
\.


--
-- Data for Name: event_2026; Type: TABLE DATA; Schema: public; Owner: postgres
--

COPY public.event_2026 (id, "tenantId", at, payload) FROM stdin;
4	t_1	2026-02-01	[]
\.


--
-- Data for Name: event_empty; Type: TABLE DATA; Schema: public; Owner: postgres
--

COPY public.event_empty (id, "tenantId", at, payload) FROM stdin;
\.


--
-- Data for Name: invoice; Type: TABLE DATA; Schema: public; Owner: postgres
--

COPY public.invoice (no, "tenantId", total) FROM stdin;
1	t_1	10
2	t_2	20
3	\N	30
\.


--
-- Data for Name: no_columns; Type: TABLE DATA; Schema: public; Owner: postgres
--

COPY public.no_columns  FROM stdin;


\.


--
-- Name: log_id_seq; Type: SEQUENCE SET; Schema: audit; Owner: postgres
--

SELECT pg_catalog.setval('audit.log_id_seq', 1, true);


--
-- Name: Contact_id_seq; Type: SEQUENCE SET; Schema: public; Owner: postgres
--

SELECT pg_catalog.setval('public."Contact_id_seq"', 4, true);


--
-- Name: event_id_seq; Type: SEQUENCE SET; Schema: public; Owner: postgres
--

SELECT pg_catalog.setval('public.event_id_seq', 4, true);


--
-- Name: invoice_no_seq; Type: SEQUENCE SET; Schema: public; Owner: postgres
--

SELECT pg_catalog.setval('public.invoice_no_seq', 100, false);


--
-- Name: log log_pkey; Type: CONSTRAINT; Schema: audit; Owner: postgres
--

ALTER TABLE ONLY audit.log
    ADD CONSTRAINT log_pkey PRIMARY KEY (id);


--
-- Name: Contact Contact_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public."Contact"
    ADD CONSTRAINT "Contact_pkey" PRIMARY KEY (id);


--
-- Name: Tenant Tenant_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public."Tenant"
    ADD CONSTRAINT "Tenant_pkey" PRIMARY KEY (id);


--
-- Name: _prisma_migrations _prisma_migrations_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public._prisma_migrations
    ADD CONSTRAINT _prisma_migrations_pkey PRIMARY KEY (id);


--
-- Name: Contact_tenantId_email_idx; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX "Contact_tenantId_email_idx" ON public."Contact" USING btree ("tenantId", email);


--
-- Name: event_tenant_idx; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX event_tenant_idx ON ONLY public.event USING btree ("tenantId");


--
-- Name: event_2025_tenantId_idx; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX "event_2025_tenantId_idx" ON ONLY public.event_2025 USING btree ("tenantId");


--
-- Name: event_2025_a_tenantId_idx; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX "event_2025_a_tenantId_idx" ON public.event_2025_a USING btree ("tenantId");


--
-- Name: event_2025_rest_tenantId_idx; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX "event_2025_rest_tenantId_idx" ON public.event_2025_rest USING btree ("tenantId");


--
-- Name: event_2026_tenantId_idx; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX "event_2026_tenantId_idx" ON public.event_2026 USING btree ("tenantId");


--
-- Name: event_empty_tenantId_idx; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX "event_empty_tenantId_idx" ON public.event_empty USING btree ("tenantId");


--
-- Name: invoice_tenant_no; Type: INDEX; Schema: public; Owner: postgres
--

CREATE UNIQUE INDEX invoice_tenant_no ON public.invoice USING btree ("tenantId", no) WHERE ("tenantId" IS NOT NULL);


--
-- Name: event_2025_a_tenantId_idx; Type: INDEX ATTACH; Schema: public; Owner: postgres
--

ALTER INDEX public."event_2025_tenantId_idx" ATTACH PARTITION public."event_2025_a_tenantId_idx";


--
-- Name: event_2025_rest_tenantId_idx; Type: INDEX ATTACH; Schema: public; Owner: postgres
--

ALTER INDEX public."event_2025_tenantId_idx" ATTACH PARTITION public."event_2025_rest_tenantId_idx";


--
-- Name: event_2025_tenantId_idx; Type: INDEX ATTACH; Schema: public; Owner: postgres
--

ALTER INDEX public.event_tenant_idx ATTACH PARTITION public."event_2025_tenantId_idx";


--
-- Name: event_2026_tenantId_idx; Type: INDEX ATTACH; Schema: public; Owner: postgres
--

ALTER INDEX public.event_tenant_idx ATTACH PARTITION public."event_2026_tenantId_idx";


--
-- Name: event_empty_tenantId_idx; Type: INDEX ATTACH; Schema: public; Owner: postgres
--

ALTER INDEX public.event_tenant_idx ATTACH PARTITION public."event_empty_tenantId_idx";


--
-- Name: Contact contact_touch; Type: TRIGGER; Schema: public; Owner: postgres
--

CREATE TRIGGER contact_touch BEFORE INSERT ON public."Contact" FOR EACH ROW EXECUTE FUNCTION public.touch();


--
-- Name: Contact Contact_tenantId_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public."Contact"
    ADD CONSTRAINT "Contact_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES public."Tenant"(id);


--
-- Name: Contact; Type: ROW SECURITY; Schema: public; Owner: postgres
--

ALTER TABLE public."Contact" ENABLE ROW LEVEL SECURITY;

--
-- Name: Contact tenant_isolation; Type: POLICY; Schema: public; Owner: postgres
--

CREATE POLICY tenant_isolation ON public."Contact" USING (("tenantId" = current_setting('app.tenant'::text, true)));


--
-- Name: contact_summary; Type: MATERIALIZED VIEW DATA; Schema: public; Owner: postgres
--

REFRESH MATERIALIZED VIEW public.contact_summary;


--
-- PostgreSQL database dump complete
--

\unrestrict QGeRaQACUbd3WP3U6R1NJIzeqOPd7ulJUKJDFeXr5G7USwpNrhKnSB4AMNsHSY9

