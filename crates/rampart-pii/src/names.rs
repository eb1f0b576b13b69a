//! Person names without a language model: runs of capitalised words whose
//! first word is a known first name and whose last is a known surname, or
//! that follow a title (Mr, Dr, Frau, Mme, Sr., Pani...) or a cue (Dear,
//! Sehr geehrte, Estimado, Sayın...), or come before an honorific (Bey,
//! Hanım, -san). Surname particles may sit between the words (Jan van der
//! Berg, Maria da Silva, Omar al-Rashid).
//!
//! The dictionaries (`data/`, made by `tools/gen_name_lists.py`, sources
//! in `data/SOURCES.md`) hold 58,000 first names and 100,000 surnames from
//! US censuses, Jörg Michael's 54-country nam_dict and the names of people
//! with Wikipedia articles. A name that is also an ordinary English word
//! (Grant, Park) is weak: it counts only beside a name that is not. A word
//! in no dictionary counts beside a known name when a character n-gram
//! model ([`Model`]) finds it shaped like a name. Street, place and company
//! words next to a run make it a place or a firm. A run with only one part
//! known scores lower and needs a context word. A model-based recogniser
//! can be added later beside this one: it only has to produce
//! [`crate::Match`]es.

use crate::{skip, Match};
use rustc_hash::FxHashMap as HashMap;
use std::sync::OnceLock;

const FIRST_NAMES: &str = include_str!("../data/first_names.txt");
const LAST_NAMES: &str = include_str!("../data/last_names.txt");
const NAME_WORDS: &str = include_str!("../data/name_words.txt");
/// Ordinary English words that are no name at all.
const COMMON_WORDS: &str = include_str!("../data/common_words.txt");
const MODEL: &[u8] = include_bytes!("../data/name_model.bin");

/// Words before a name that make it one whatever the dictionaries say.
const TITLES: &[&str] = &[
    "mr",
    "mrs",
    "ms",
    "miss",
    "mx",
    "dr",
    "prof",
    "sir",
    "dame",
    "herr",
    "herrn",
    "frau",
    "m",
    "mme",
    "mlle",
    "monsieur",
    "madame",
    "mademoiselle",
    "sr",
    "sra",
    "srta",
    "señor",
    "señora",
    "senhor",
    "senhora",
    "sig",
    "signor",
    "signora",
    "dott",
    "dhr",
    "mevr",
    "mevrouw",
    "pani",
    "panie",
    "shri",
    "smt",
    "sri",
    "kumari",
];

/// Capitalised words that make the words beside them a place or an
/// organisation named after someone, not a person: New York City,
/// Victoria Station, Via Giuseppe Verdi, Schmidt GmbH, Andersen Junction.
/// Street types are those of USPS Publication 28 and their equivalents
/// abroad, leaving out the ones that are also common surnames (Hill,
/// Fields, Mills, Key, Pike, Dam, Ring).
const PLACES: &[&str] = &[
    "city",
    "street",
    "road",
    "roads",
    "avenue",
    "lane",
    "drive",
    "boulevard",
    "station",
    "airport",
    "university",
    "college",
    "school",
    "hospital",
    "bank",
    "group",
    "inc",
    "ltd",
    "llc",
    "plc",
    "gmbh",
    "ag",
    "kg",
    "kgaa",
    "sa",
    "srl",
    "spa",
    "bv",
    "nv",
    "corp",
    "company",
    "co",
    "park",
    "square",
    "hotel",
    "center",
    "centre",
    "institute",
    "foundation",
    "museum",
    "club",
    "county",
    "junction",
    "corner",
    "lake",
    "tunnel",
    "ranch",
    "crossing",
    "crescent",
    "court",
    "gardens",
    "heights",
    "island",
    "meadow",
    "meadows",
    "parkway",
    "plains",
    "ridge",
    "route",
    "shore",
    "shores",
    "terrace",
    "trail",
    "turnpike",
    "valley",
    "village",
    "vista",
    "estate",
    "estates",
    "loop",
    "manor",
    "mews",
    "marg",
    "nagar",
    "chowk",
    "strasse",
    "platz",
    "weg",
    "allee",
    "gasse",
    "ufer",
    "rue",
    "place",
    "chemin",
    "impasse",
    "quai",
    "calle",
    "plaza",
    "avenida",
    "camino",
    "paseo",
    "ronda",
    "via",
    "viale",
    "piazza",
    "vicolo",
    "corso",
    "largo",
    "rua",
    "praca",
    "travessa",
    "alameda",
    "straat",
    "plein",
    "laan",
    "gracht",
    "kade",
    "ulica",
    "aleja",
    "osiedle",
    "sokak",
    "caddesi",
    "cadde",
    "bulvar",
    "mahallesi",
    "manor",
    "manors",
    "rapids",
    "causeway",
    "mountain",
    "mountains",
    "locks",
    "points",
    "isle",
    "burg",
    "burgs",
    "gateway",
    "curve",
    "parkways",
    "views",
    "commons",
    "groves",
    "skyway",
    "inlet",
    "expressway",
    "freeway",
    "highway",
    "motorway",
    "flats",
    "extension",
    "extensions",
    "harbor",
    "harbors",
    "harbour",
    "stravenue",
    "underpass",
    "overpass",
    "viaduct",
    "throughway",
    "trafficway",
    "bypass",
    "orchard",
    "oval",
    "prairie",
    "shoal",
    "shoals",
    "knoll",
    "knolls",
    "landing",
    "mall",
    "mission",
    "pines",
    "ports",
    "squares",
    "stream",
    "trace",
    "track",
    "tracks",
    "tunnels",
    "unions",
    "valleys",
    "villages",
    "ville",
    "vistas",
    "ways",
    "cove",
    "coves",
    "creek",
    "crest",
    "bluff",
    "bluffs",
    "canyon",
    "corners",
    "crossroad",
    "divide",
    "rodovia",
    "jardim",
    "lagoa",
    // The rest of the Brazilian Correios' street types (tipos de
    // logradouro) that are not also surnames (Campo, Vale, Costa).
    "area",
    "colonia",
    "condominio",
    "distrito",
    "esplanada",
    "estacao",
    "favela",
    "feira",
    "lago",
    "morro",
    "parque",
    "passarela",
    "patio",
    "recanto",
    "sitio",
    "trecho",
    "trevo",
    "viaduto",
    "nucleo",
    "residencial",
    "vila",
    "estrada",
    "ladeira",
    "loteamento",
    "chacara",
    "fazenda",
    "setor",
    "quadra",
    "conjunto",
    "vereda",
    "viela",
    "aeroporto",
    "pasaje",
    "urbanizacion",
    "callejon",
    "cuesta",
    "glorieta",
    "travesia",
    "carretera",
    "rambla",
    "acceso",
    "explanada",
    "pasadizo",
    "poligono",
    // The rest of Publication 28's suffixes that are not common surnames.
    "alley",
    "anex",
    "arcade",
    "bayou",
    "bottom",
    "centers",
    "circle",
    "circles",
    "crossroads",
    "drives",
    "falls",
    "flat",
    "fords",
    "forges",
    "forks",
    "glens",
    "greens",
    "hollow",
    "islands",
    "junctions",
    "lakes",
    "passage",
    "path",
    "plain",
    "point",
    "radial",
    "ramp",
    "rapid",
    "ridges",
    "spur",
    "spurs",
    "streets",
    "trailer",
    "walks",
    "senda",
    "vial",
];

/// Compass words before a name make a place of it: North Glenn, South
/// Bradley, Nova Lima.
const DIRECTIONS: &[&str] = &[
    "north", "south", "east", "west", "nord", "sud", "sued", "ost", "norte", "sul", "leste",
    "oeste", "noord", "zuid", "oost", "nova", "novo", "new", "port", "lake", "mount",
];

/// Legal forms written after a company's name, which may be a person's
/// (Graciano Gimeno Escalona S.A.U., Akar Arslan A.Ş., Müller & Söhne).
const LEGAL_FORMS: &[&str] = &[
    "S.A",
    "S.L",
    "S.p.A",
    "S.r.l",
    "s.r.l",
    "A.Ş",
    // Turkish: Sanayi, Ticaret, Şirketi (Ltd. Şti.), Holding.
    "San.",
    "Tic.",
    "Şti.",
    "Holding",
    "e.K",
    "B.V",
    "N.V",
    "S.C",
    "Sp. z o.o",
    "sp.j",
    "S.Coop",
    "S.Com",
    "SARL",
    "SAS",
    "Ltda",
    "LLP",
    "& Co",
    "& Söhne",
    "& Sons",
    "and Sons",
    "& Partner",
    "GmbH",
    "AG",
    "KG",
    "Ltd",
    "LLC",
    "PLC",
    "Inc",
];

/// Whether a legal form follows `end`.
fn company_after(text: &str, end: usize) -> bool {
    let after = text.get(end..).unwrap_or("");
    let after = after.strip_prefix([' ', ',']).unwrap_or(after).trim_start();
    // Every legal form starts with one of these.
    if !after.starts_with([
        'S', 'A', 'e', 'B', 'N', 's', 'L', '&', 'a', 'G', 'K', 'P', 'I', 'T', 'Ş', 'H',
    ]) {
        return false;
    }
    LEGAL_FORMS.iter().any(|f| {
        after.starts_with(f)
            && !after
                .get(f.len()..)
                .and_then(|t| t.chars().next())
                .is_some_and(char::is_alphanumeric)
    })
}

/// Words near a name that raise its score.
pub const CONTEXT: &[&str] = &[
    "name",
    "named",
    "dear",
    "contact",
    "patient",
    "customer",
    "employee",
    "signed",
    "called",
    "author",
    "applicant",
    "client",
    "user",
    "recipient",
    "sender",
    "manager",
    "wrote",
    "person",
    "owner",
    "holder",
    "cardholder",
    "insured",
    "member",
    "nom",
    "nombre",
    "nome",
    "naam",
    "nazwisko",
    "vorname",
    "nachname",
    "kunde",
    "kundin",
    "cliente",
    "klant",
    "klient",
    "titular",
    "titulaire",
    "intestatario",
    "kontoinhaber",
    "rekeninghouder",
    "posiadacz",
];

/// Words that, just before capitalised words, introduce a name ("Dear
/// Anamika Kala", "account holder Qarin Setty"): two unknown capitalised
/// words after one of these are taken for a name.
const CUES: &[&str] = &[
    "dear",
    "hi",
    "hello",
    "attn",
    "attention",
    "contact",
    "customer",
    "patient",
    "client",
    "holder",
    "billed to",
    "ship to",
    "shipped to",
    "signed",
    "employee",
    "applicant",
    "name",
    "named",
    "guest",
    "passenger",
    "tenant",
    "beneficiary",
    "cardholder",
    "insured",
    "sincerely",
    "regards",
    "approved by",
    "assigned to",
    "escalated to",
    "forwarded to",
    "reported by",
    "requested by",
    "spoke with",
    "invoiced to",
    // German, French, Spanish, Italian, Portuguese, Dutch, Polish, Turkish.
    "liebe",
    "lieber",
    "hallo",
    "sehr geehrte",
    "sehr geehrter",
    "kunde",
    "kundin",
    "kontoinhaber",
    "kontoinhaberin",
    "bonjour",
    "cher",
    "chère",
    "titulaire du compte",
    "hola",
    "estimado",
    "estimada",
    "cliente",
    "titular de la cuenta",
    "gentile",
    "caro",
    "cara",
    "ciao",
    "intestatario",
    "intestato a",
    "olá",
    "prezado",
    "prezada",
    "titular da conta",
    "beste",
    "geachte heer",
    "geachte mevrouw",
    "klant",
    "rekeninghouder",
    "szanowny panie",
    "szanowna pani",
    "dzień dobry",
    "cześć",
    "klient",
    "posiadacz rachunku",
    "sayın",
    "merhaba",
    "değerli",
    "müşteri",
    "hesap sahibi",
    // The same acts in each language: contact, billed to, approved by,
    // assigned or forwarded to.
    "wenden sie sich an",
    "in rechnung gestellt an",
    "genehmigt von",
    "weitergeleitet an",
    "zugewiesen an",
    "contactez",
    "facturé à",
    "approuvé par",
    "transmis à",
    "attribué à",
    "contacte con",
    "facturado a",
    "aprobado por",
    "asignado a",
    "contattare",
    "fatturato a",
    "approvato da",
    "assegnato a",
    "inoltrato a",
    "contato com",
    "faturado para",
    "aprovado por",
    "atribuído a",
    "encaminhado para",
    "contact op met",
    "gefactureerd aan",
    "goedgekeurd door",
    "toegewezen aan",
    "doorgestuurd naar",
    "kontakt z",
    "obciążono",
    "zatwierdzone przez",
    "przekazano do",
    "onaylayan",
];

/// Whether the words just before `start` end with a cue: the last one to
/// four words (the longest cue, "titular de la cuenta"), folded, looked up
/// in the table.
fn cued(text: &str, start: usize) -> bool {
    let Some(d) = dictionaries() else {
        return false;
    };
    let mut from = start.saturating_sub(24);
    while from > 0 && !text.is_char_boundary(from) {
        from -= 1;
    }
    let before = text
        .get(from..start)
        .unwrap_or("")
        .trim_end()
        .trim_end_matches([':', ',']);
    // Most words follow no cue: one lookup of the word before says so.
    let last = before.rsplit(' ').next().unwrap_or(before);
    let last = last.trim_start_matches(|c: char| !c.is_alphanumeric());
    // A cue is a word: "ended." before a sentence is none, and needs no
    // folding to say so.
    if last.is_empty() || !last.chars().all(char::is_alphabetic) {
        return false;
    }
    if d.kinds_of(last) & CUE_END == 0 {
        return false;
    }
    let mut cut = before.len();
    for _ in 0..5 {
        // "(account holder": the cue without what opens it.
        let words = before
            .get(cut..)
            .unwrap_or("")
            .trim_start_matches(|c: char| !c.is_alphanumeric());
        if !words.is_empty() && d.kinds_of_phrase(words) & CUE != 0 {
            return true;
        }
        match before.get(..cut).and_then(|b| b.trim_end().rfind(' ')) {
            Some(space) => cut = space,
            None if cut > 0 => cut = 0,
            None => return false,
        }
    }
    false
}

/// Words after a name that make it one: honorifics written after the
/// name (Turkish Bey and Hanım, Japanese -san and -sama, Hindi and Urdu
/// ji and Sahib) and Turkish postpositions that take a person (X adına,
/// "in X's name"; X tarafından, "by X"; X kişisine, "to X").
const AFTER: &[&str] = &[
    "bey",
    "hanım",
    "san",
    "sama",
    "kun",
    "ji",
    "sahib",
    "saheb",
    "sahab",
    "adına",
    "tarafından",
    "kişisine",
    "ile",
];

/// Whether `word` ends in a hyphenated honorific ("Tanaka-san").
fn honorific_suffix(d: &Dictionaries, word: &str) -> bool {
    word.rsplit_once('-')
        .is_some_and(|(_, s)| d.kinds_of(s) & HONORIFIC != 0)
}

/// Whether `word` is a known first name or surname, or shaped like one.
fn name_like(d: &Dictionaries, word: &str) -> bool {
    known(d, FIRST, word).max(known(d, LAST, word)) >= Known::Guess
}

/// Whether an honorific or a postposition of [`AFTER`] follows `end`,
/// after a space or a hyphen (a hyphenated one, "Tanaka-san", is read as
/// part of the word and checked by the caller).
fn honoured(text: &str, end: usize) -> bool {
    let Some(d) = dictionaries() else {
        return false;
    };
    let after = text.get(end..).unwrap_or("");
    let Some(rest) = after.strip_prefix([' ', '-']) else {
        return false;
    };
    let word_len = rest
        .char_indices()
        .find(|(_, c)| !c.is_alphabetic())
        .map_or(rest.len(), |(i, _)| i);
    rest.get(..word_len)
        .is_some_and(|w| !w.is_empty() && d.kinds_of(w) & HONORIFIC != 0)
}

/// The dictionaries as one table from 64-bit hashes of the folded words
/// to what they are (`FIRST`, `LAST`, `WORD`...): a lookup is one probe
/// of a table of integers, with no string to follow and compare, and one
/// probe answers every question about a word (the lookups were a tenth of
/// the scanner's time). With 160,000 names, a word not in a list has a
/// chance of about 1e-14 of hashing like one.
struct Dictionaries {
    kinds: HashMap<u64, u16>,
    /// One bit per 20-bit slice of a name's hash: 128 KiB that stay in
    /// cache and say "not a name" for most ordinary words without a probe
    /// of the table (a probe is a cache miss on a table this size).
    names_filter: Vec<u64>,
    model: Option<Model>,
}

/// The bit of [`Dictionaries::names_filter`] for a hash.
fn filter_bit(hash: u64) -> (usize, u64) {
    let slot = (hash >> 44) as usize;
    (slot / 64, 1u64 << (slot % 64))
}

/// What a word is, as bits of [`Dictionaries::kinds`].
const FIRST: u16 = 1;
const LAST: u16 = 2;
/// A name that is also an ordinary word.
const WORD: u16 = 4;
const TITLE: u16 = 8;
const CUE: u16 = 16;
const PLACE: u16 = 32;
const DIRECTION: u16 = 64;
/// A word after a name that makes it one ([`AFTER`]).
const HONORIFIC: u16 = 128;
/// The last word of a cue ("geehrte" of "sehr geehrte"): [`cued`] looks
/// further only after one.
const CUE_END: u16 = 256;

impl Dictionaries {
    /// What the folded, lowercase `word` is.
    fn kinds(&self, folded: &[u8]) -> u16 {
        self.kinds.get(&name_hash(folded)).copied().unwrap_or(0)
    }

    /// What a phrase of words separated by single spaces is (a cue such
    /// as "sehr geehrte").
    fn kinds_of_phrase(&self, phrase: &str) -> u16 {
        match phrase.contains(' ') {
            true => self.kinds(fold(phrase).as_bytes()),
            false => self.kinds_of(phrase),
        }
    }

    /// Whether `word` may be a first name or surname: false means it is
    /// surely not, and costs no probe of the table.
    fn maybe_name(&self, word: &str) -> bool {
        let test = |folded: &[u8]| {
            let (i, bit) = filter_bit(name_hash(folded));
            self.names_filter.get(i).is_some_and(|w| w & bit != 0)
        };
        with_ascii_lowercase(word, test).unwrap_or_else(|| test(fold(word).as_bytes()))
    }

    /// What `word`, as written, is.
    fn kinds_of(&self, word: &str) -> u16 {
        with_ascii_lowercase(word, |w| self.kinds(w))
            .unwrap_or_else(|| self.kinds(fold(word).as_bytes()))
    }
}

/// Whether a word not in the dictionaries looks like a name: naive Bayes
/// log-odds of its character 2- to 4-grams, in names against ordinary words
/// of nine languages (`data/SOURCES.md`; trained by
/// `tools/gen_name_lists.py`). The threshold passes 5 % of held-out
/// ordinary words and most unseen names (Nevise, Aygutalp, Kaleema).
struct Model {
    threshold: i32,
    weights: &'static [u8],
}

impl Model {
    const BUCKETS: usize = 1 << 16;

    /// The model in `data/name_model.bin`: `RNM1`, the threshold as a
    /// little-endian i32, then one i8 weight per bucket.
    fn parse(bytes: &'static [u8]) -> Option<Model> {
        let rest = bytes.strip_prefix(b"RNM1")?;
        let (threshold, weights) = rest.split_first_chunk::<4>()?;
        (weights.len() == Model::BUCKETS).then_some(Model {
            threshold: i32::from_le_bytes(*threshold),
            weights,
        })
    }

    /// Whether `folded` (lowercase ASCII) scores above the threshold.
    fn name_like(&self, folded: &[u8]) -> bool {
        // The word between ^ and $, on the stack; longer words are cut
        // (no name is 62 letters long, and a cut word only scores lower).
        let mut buf = [0u8; 64];
        let body = folded.get(..62).unwrap_or(folded);
        let framed = std::iter::once(&b'^')
            .chain(body)
            .chain(std::iter::once(&b'$'));
        for (d, s) in buf.iter_mut().zip(framed) {
            *d = *s;
        }
        let word = buf.get(..body.len() + 2).unwrap_or(&[]);
        let mut sum = 0i32;
        for n in 2..=4 {
            for gram in word.windows(n) {
                let bucket = fnv1a(gram) as usize % Model::BUCKETS;
                let w = self.weights.get(bucket).map_or(0, |&b| i32::from(b as i8));
                sum += w;
            }
        }
        sum > self.threshold
    }
}

/// 32-bit FNV-1a, as `tools/gen_name_lists.py` hashes n-grams.
fn fnv1a(data: &[u8]) -> u32 {
    data.iter().fold(0x811c_9dc5, |h: u32, &b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

fn name_hash(lowercase: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(lowercase)
}

fn dictionaries() -> Option<&'static Dictionaries> {
    static D: OnceLock<Dictionaries> = OnceLock::new();
    Some(D.get_or_init(|| {
        let mut kinds: HashMap<u64, u16> = HashMap::default();
        let mut names_filter = vec![0u64; (1 << 20) / 64];
        for (list, kind) in [(FIRST_NAMES, FIRST), (LAST_NAMES, LAST), (NAME_WORDS, WORD)] {
            for name in list.lines() {
                let hash = name_hash(name.as_bytes());
                *kinds.entry(hash).or_default() |= kind;
                let (i, bit) = filter_bit(hash);
                if let Some(w) = names_filter.get_mut(i) {
                    *w |= bit;
                }
            }
        }
        // Ordinary words are WORD alone, and outside the names filter.
        for word in COMMON_WORDS.lines() {
            *kinds.entry(name_hash(word.as_bytes())).or_default() |= WORD;
        }
        let words = [
            (TITLES, TITLE),
            (CUES, CUE),
            (PLACES, PLACE),
            (DIRECTIONS, DIRECTION),
            (AFTER, HONORIFIC),
        ];
        for (list, kind) in words {
            for w in list {
                *kinds.entry(name_hash(fold(w).as_bytes())).or_default() |= kind;
            }
        }
        for cue in CUES {
            let last = cue.rsplit(' ').next().unwrap_or(cue);
            *kinds.entry(name_hash(fold(last).as_bytes())).or_default() |= CUE_END;
        }
        Dictionaries {
            kinds,
            names_filter,
            model: Model::parse(MODEL),
        }
    }))
}

/// How surely a word is a name of one kind.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Known {
    No,
    /// Not in the dictionaries, but shaped like a name (see [`Model`]).
    Guess,
    /// In the dictionary, but also an ordinary word.
    Weak,
    Yes,
}

fn is_apostrophe(c: char) -> bool {
    c == '\'' || c == '’'
}

/// The capitalised word starting at `at`, if one does, and where it ends:
/// a capital and a small letter (or an apostrophe and a capital: O'Brien),
/// then letters, apostrophes and hyphens (McDonald, Hans-Jürgen); or an
/// initial with its dot not after a letter, digit or `_` ("F."). Written by hand
/// rather than as a regular expression: it runs on every capital of
/// every text, and a Unicode regex search per text costs more than all
/// the rest of the name finder.
fn capitalised_at(text: &str, at: usize) -> Option<usize> {
    let rest = text.get(at..)?;
    let bytes = rest.as_bytes();
    // Most words are ASCII: a capital and a small letter.
    let ascii_start =
        matches!(bytes, [a, b, ..] if a.is_ascii_uppercase() && b.is_ascii_lowercase());
    if ascii_start {
        return Some(at + word_end(rest, 2));
    }
    let mut chars = rest.char_indices();
    let (_, first) = chars.next()?;
    if !first.is_uppercase() {
        return None;
    }
    let (i, second) = chars.next()?;
    let word_start = if second.is_lowercase() {
        Some(i + second.len_utf8())
    } else if is_apostrophe(second) {
        chars
            .next()
            .filter(|(_, c)| c.is_uppercase())
            .map(|(j, c)| j + c.len_utf8())
    } else {
        None
    };
    if let Some(body) = word_start {
        return Some(at + word_end(rest, body));
    }
    let after_word = text
        .get(..at)
        .and_then(|t| t.chars().next_back())
        .is_some_and(|c| c.is_alphanumeric() || c == '_');
    (second == '.' && !after_word).then_some(at + first.len_utf8() + 1)
}

/// Where the letters, apostrophes and hyphens of `word` from `from` end.
fn word_end(word: &str, mut end: usize) -> usize {
    let bytes = word.as_bytes();
    while let Some(&b) = bytes.get(end) {
        if b.is_ascii_alphabetic() || b == b'\'' || b == b'-' {
            end += 1;
            continue;
        }
        match word.get(end..).and_then(|r| r.chars().next()) {
            Some(c) if !b.is_ascii() && (c.is_alphabetic() || is_apostrophe(c)) => {
                end += c.len_utf8()
            }
            _ => break,
        }
    }
    end
}

/// The capitalised words of `text`, leftmost first, without overlaps.
fn capitalised(text: &str) -> impl Iterator<Item = Word<'_>> {
    let mut at = 0;
    std::iter::from_fn(move || loop {
        let rest = text.get(at..)?;
        let capital_or_wide = skip::Wanted {
            lo: b'A',
            hi: b'Z',
            non_ascii: true,
        };
        let offset = skip::next(rest.as_bytes(), capital_or_wide)
            .and_then(|i| Some(i + rest.get(i..)?.find(char::is_uppercase)?))?;
        let start = at + offset;
        match capitalised_at(text, start) {
            Some(end) => {
                at = end;
                return Some(Word {
                    text: text.get(start..end)?,
                    start,
                    end,
                });
            }
            None => at = start + rest.get(offset..)?.chars().next()?.len_utf8(),
        }
    })
}

/// Letters that Unicode decomposition does not take to ASCII (the same
/// table as `tools/gen_name_lists.py`).
const SPECIAL: &[(char, &str)] = &[
    ('ł', "l"),
    ('đ', "d"),
    ('ø', "o"),
    ('æ', "ae"),
    ('œ', "oe"),
    ('ß', "ss"),
    ('ı', "i"),
    ('þ', "th"),
    ('ħ', "h"),
    ('ŀ', "l"),
];

/// Lowercase ASCII for a dictionary lookup, as the dictionaries are
/// written: accents dropped (Müller -> muller, Wójcik -> wojcik,
/// Yılmaz -> yilmaz), apostrophes dropped (O'Brien -> obrien).
fn fold(word: &str) -> String {
    use unicode_normalization::{char::is_combining_mark, UnicodeNormalization};
    let mut out = String::with_capacity(word.len());
    for c in word.chars().flat_map(char::to_lowercase).nfkd() {
        if is_combining_mark(c) || is_apostrophe(c) {
            continue;
        }
        match SPECIAL.iter().find(|(s, _)| *s == c) {
            Some((_, ascii)) => out.push_str(ascii),
            None => out.push(c),
        }
    }
    out
}

/// How surely a word, or a part of a hyphenated one, is a name of the
/// `kind` (`FIRST` or `LAST`). Arabic and Urdu names romanised with the
/// long vowels doubled (Naadir, Ihsaan, Saleem, Mahmood) are also looked
/// up as the dictionaries spell them (Nadir, Ihsan, Salim, Mahmud).
fn known(d: &Dictionaries, kind: u16, word: &str) -> Known {
    let exact = known_as_written(d, kind, word);
    if exact >= Known::Weak {
        return exact;
    }
    match long_vowels_single(word) {
        Some(single) => exact.max(known_as_written(d, kind, &single)),
        None => exact,
    }
}

/// `word` in lowercase with doubled vowels written once (aa -> a, ee and
/// ii -> i, oo and uu -> u), if it has any.
fn long_vowels_single(word: &str) -> Option<String> {
    // Most words have none: tell without allocating (known() asks this of
    // every word no dictionary holds).
    let doubled = word.as_bytes().windows(2).any(|pair| {
        matches!(pair, [a, b] if a.eq_ignore_ascii_case(b)
            && matches!(a.to_ascii_lowercase(), b'a' | b'e' | b'i' | b'o' | b'u'))
    });
    if !doubled {
        return None;
    }
    let lower = word.to_lowercase();
    let out = lower
        .replace("aa", "a")
        .replace("ee", "i")
        .replace("ii", "i")
        .replace("oo", "u")
        .replace("uu", "u");
    Some(out)
}

/// How surely `word`, as written, is a name of the `kind`.
fn known_as_written(d: &Dictionaries, kind: u16, word: &str) -> Known {
    let strength = |w: &[u8]| match d.kinds(w) {
        k if k & kind != 0 && k & WORD != 0 => Known::Weak,
        k if k & kind != 0 => Known::Yes,
        k if k & WORD != 0 => Known::No,
        // Short words are too often ordinary ones ("The") to guess.
        _ => match &d.model {
            Some(m) if w.len() >= 4 && m.name_like(w) => Known::Guess,
            _ => Known::No,
        },
    };
    if let Some(found) = with_ascii_lowercase(word, strength) {
        return found;
    }
    let f = fold(word);
    let whole = strength(f.as_bytes());
    if whole > Known::Guess || !f.contains('-') {
        return whole;
    }
    f.split('-')
        .map(|p| strength(p.as_bytes()))
        .max()
        .unwrap_or(Known::No)
}

/// `f` of `word` in ASCII lowercase, without allocating; `None` if the
/// word is not short ASCII letters (and needs [`fold`]).
fn with_ascii_lowercase<T>(word: &str, f: impl FnOnce(&[u8]) -> T) -> Option<T> {
    let mut buf = [0u8; 32];
    let lower = buf.get_mut(..word.len())?;
    if !word.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    for (d, s) in lower.iter_mut().zip(word.bytes()) {
        *d = s.to_ascii_lowercase();
    }
    Some(f(lower))
}

/// Whether a word is a title, a cue or an honorific ("Dr.", "Dear",
/// "Bey"): such a word is no part of a name. One probe of the table when
/// the word has no trailing dot.
fn starts_no_name(d: &Dictionaries, word: &str) -> bool {
    let trimmed = word.trim_end_matches('.');
    let kinds = d.kinds_of(trimmed);
    let as_written = match trimmed.len() == word.len() {
        true => kinds,
        false => d.kinds_of(word),
    };
    kinds & (TITLE | CUE) != 0 || as_written & HONORIFIC != 0
}

/// A capitalised word and its byte span.
#[derive(Clone, Copy)]
struct Word<'t> {
    text: &'t str,
    start: usize,
    end: usize,
}

/// Lowercase words that join the parts of a name: Jan van der Berg, Maria
/// da Silva, Ludwig von Mises, Omar bin Laden, García y López.
const PARTICLES: &[&str] = &[
    "van", "von", "der", "den", "het", "'t", "’t", "de", "del", "della", "dei", "di", "da", "das",
    "dos", "do", "du", "des", "la", "le", "zu", "zur", "ter", "ten", "te", "op", "bin", "ibn",
    "ben", "bint", "y", "e",
];

/// Particles written onto the surname: al-Rashid, d'Amico.
const PREFIXES: &[&str] = &["al-", "el-", "d'", "d’", "l'", "l’"];

/// Prepositions that put the capitalised words after them in a place:
/// "resident in Casa Grande", "residente em Santos do Norte", "wohnhaft
/// in", "w Krakowie". Not "a" or "à", which also take people ("facturé à").
const LOCATIVES: &[&str] = &["in", "em", "en", "im", "nel", "nella", "w", "we"];

/// Whether a street or place word, or a locative preposition, comes just
/// before `start`, across lowercase particles: "Calle de Adolfo Bellido",
/// "rue du Général", "in Vargas Alegre".
fn place_before(d: &Dictionaries, text: &str, start: usize) -> bool {
    let before = text.get(..start).unwrap_or("");
    let from = before.len().saturating_sub(32);
    let window = (from..=before.len())
        .find_map(|i| before.get(i..))
        .unwrap_or("");
    for word in window.split_whitespace().rev().take(4) {
        let word = word.trim_matches(|c: char| !c.is_alphanumeric());
        if word.is_empty() {
            return false;
        }
        if PARTICLES.contains(&word) {
            continue;
        }
        return LOCATIVES.contains(&word) || d.kinds_of(word) & PLACE != 0;
    }
    false
}

/// Whether a gap of particles (" van der ", " al-") starts with one that
/// is only ever part of a surname, not also a word such as "de" or "di".
fn surname_particle(gap: &str) -> bool {
    let first = gap
        .trim_start()
        .split([' ', '-', '\'', '’'])
        .next()
        .unwrap_or("");
    matches!(
        first,
        "van"
            | "von"
            | "den"
            | "der"
            | "het"
            | "ter"
            | "ten"
            | "zu"
            | "zur"
            | "op"
            | "bin"
            | "ibn"
            | "bint"
            | "al"
            | "el"
    )
}

/// Whether the text between two capitalised words lets them be one name:
/// a single space, or up to three particles between spaces, the last of
/// which may be a prefix of the second word.
fn joins(gap: &str) -> bool {
    // Three particles and their spaces fit in 16 bytes ("van der de" is
    // not one name anyway); most gaps are long runs of ordinary words.
    if gap.len() > 16 {
        return false;
    }
    let Some(inner) = gap.strip_prefix(' ') else {
        return false;
    };
    if inner.is_empty() {
        return true;
    }
    let (words, prefix) = match inner.strip_suffix(' ') {
        Some(words) => (words, None),
        None => match PREFIXES.iter().find(|p| inner.ends_with(*p)) {
            Some(p) => (inner.get(..inner.len() - p.len()).unwrap_or(""), Some(p)),
            None => return false,
        },
    };
    let words = match (words, prefix) {
        ("", Some(_)) => return true,
        (w, Some(_)) => match w.strip_suffix(' ') {
            Some(w) => w,
            None => return false,
        },
        (w, None) => w,
    };
    let mut count = 0;
    words.split(' ').all(|w| {
        count += 1;
        count <= 3 && PARTICLES.contains(&w)
    })
}

/// Runs of capitalised words separated by single spaces (or particles),
/// each given to `each` (at most its first six words).
fn runs<'t>(text: &'t str, mut each: impl FnMut(&[Word<'t>])) {
    let mut run: Vec<Word<'t>> = Vec::new();
    let mut last_end = None;
    for w in capitalised(text) {
        let joined = last_end.is_some_and(|e| text.get(e..w.start).is_some_and(joins));
        if !joined && !run.is_empty() {
            each(&run);
            run.clear();
        }
        if run.len() < 6 {
            run.push(w);
        }
        last_end = Some(w.end);
    }
    if !run.is_empty() {
        each(&run);
    }
}

/// Whether a capitalised title word is just before `start` ("Dr. ",
/// "Mrs ").
fn titled(text: &str, start: usize) -> bool {
    let before = text.get(..start).unwrap_or("").trim_end();
    let before = before.strip_suffix('.').unwrap_or(before);
    let word_start = before
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_alphabetic())
        .last()
        .map_or(before.len(), |(i, _)| i);
    let word = before.get(word_start..).unwrap_or("");
    // Titles are capitalised: "miss. Pm" is not "Miss Pm".
    word.chars().next().is_some_and(char::is_uppercase)
        && dictionaries().is_some_and(|d| d.kinds_of(word) & TITLE != 0)
}

/// Person names in `text`, each with a base score (context is added by
/// the caller).
pub fn find(text: &str, out: &mut Vec<Match>) {
    let Some(d) = dictionaries() else {
        return;
    };
    runs(text, |run| names_in_run(d, text, run, out));
}

/// The names in one run of capitalised words.
fn names_in_run(d: &Dictionaries, text: &str, run: &[Word<'_>], out: &mut Vec<Match>) {
    // One word is a name only after a title ("Dr. Okonkwo"): most runs
    // are one word, and need no dictionary lookup.
    if let [w] = run {
        // A word after a title, or a known name before an honorific
        // (Mehmet Bey, Sato-san) or after a cue (Dear Oliver, Sayın
        // Yılmaz); a cue alone is not enough ("Dear Customer").
        // The cheap tests first: most single capitalised words start a
        // sentence and have none of these.
        let title = titled(text, w.start);
        // Without a title, only a dictionary name (or a hyphenated word,
        // Tanaka-san) is worth the look around: one probe of the table
        // per sentence-initial word.
        let dictionary_name = || d.maybe_name(w.text) && d.kinds_of(w.text) & (FIRST | LAST) != 0;
        if !title && !w.text.contains('-') && !dictionary_name() {
            return;
        }
        let score = if title || honoured(text, w.end) || honorific_suffix(d, w.text) {
            0.85
        } else if cued(text, w.start) {
            0.6
        } else {
            return;
        };
        // "Aksu San.": a company, not Aksu-san.
        // An honorific is not the name it follows (Mehmet Bey ile).
        if starts_no_name(d, w.text)
            || (!title && !name_like(d, w.text))
            || company_after(text, w.end)
        {
            return;
        }
        out.push(Match {
            entity: "PERSON",
            start: w.start,
            end: w.end,
            score,
            detail: None,
        });
        return;
    }
    {
        let mut i = 0;
        while i < run.len() {
            let Some(first) = run.get(i) else { break };
            // The kept tail of a masked name ("****** Tena") starts no
            // new one: a masked file must pass the gate it was masked for.
            if starts_no_name(d, first.text) || (i == 0 && after_mask(text, first.start)) {
                i += 1;
                continue;
            }
            let is_first = known(d, FIRST, first.text);
            let title = titled(text, first.start);
            // "Yesterday Mary Johnson": the name starts at the first name
            // when a whole name follows ("Hilayda Demir" is one name).
            if is_first <= Known::Guess
                && !title
                && run
                    .get(i + 1)
                    .is_some_and(|w| known(d, FIRST, w.text) == Known::Yes)
                && (is_first == Known::No
                    || run
                        .get(i + 2)
                        .is_some_and(|w| known(d, LAST, w.text) > Known::Guess))
                && !cued(text, first.start)
            {
                i += 1;
                continue;
            }
            // The name runs to the last surname within three more words
            // (middle names and initials in between).
            let mut end: Option<(usize, Known)> = None;
            for j in i + 1..(i + 6).min(run.len()) {
                let Some(w) = run.get(j) else { break };
                // A title starts the next name ("Szanowny Panie Michał");
                // an honorific ends this one ("Ayşe Demir Hanım").
                if starts_no_name(d, w.text) {
                    break;
                }
                // Initials and capitalised particles sit inside a name
                // (John F. Kennedy, Anna Maria De Luca).
                let particle = PARTICLES.contains(&w.text.to_lowercase().as_str());
                if (w.text.ends_with('.') || particle) && j + 1 < run.len() {
                    continue;
                }
                let is_last = known(d, LAST, w.text);
                // After a particle that is also a preposition, only a
                // surname continues the name: "Sergio di Borgoricco" may be
                // Sergio from Borgoricco; "Loek van Bunschoten" is a name.
                // After a known first name, any particle continues it
                // (Maurits de Vroege).
                let gap = run.get(j - 1).and_then(|p| text.get(p.end..w.start));
                let prepositional = gap.is_some_and(|g| g != " " && !surname_particle(g));
                if prepositional && is_last == Known::No && is_first < Known::Weak {
                    break;
                }
                // The last of consecutive surnames ends the name (Mariusz
                // Heinz-Otto Kaul, José García López).
                if is_last != Known::No {
                    let best = end.map_or(is_last, |(_, k)| k.max(is_last));
                    end = Some((j, best));
                } else if end.is_some_and(|(_, k)| k != Known::No) {
                    break;
                } else if end.is_none() {
                    end = Some((j, is_last));
                }
            }
            let score = match end {
                None if title => 0.85,
                None if honoured(text, first.end) && name_like(d, first.text) => 0.85,
                None if cued(text, first.start) && name_like(d, first.text) => 0.6,
                None => 0.0,
                Some((_, Known::No)) if title => 0.55,
                Some(_) if title => 0.85,
                Some((j, last)) => {
                    let after = run
                        .get(j)
                        .is_some_and(|w| honoured(text, w.end) || honorific_suffix(d, w.text));
                    let context = after || cued(text, first.start);
                    let score = score(is_first, last, context);
                    // Ordinary words at both ends make a term, not a person
                    // ("Dear Hiring Manager", "Support Team"); at one end,
                    // unless a cue or honorific says person ("Adam
                    // Optimizer", but "account holder Elise Warmer").
                    let common = |w: &Word<'_>| d.kinds_of(w.text) == WORD;
                    let ends = [common(first), run.get(j).is_some_and(common)];
                    let term = match ends {
                        [true, true] => true,
                        [true, false] | [false, true] => !context && score < 0.7,
                        [false, false] => false,
                    };
                    match term {
                        true => 0.0,
                        false => score,
                    }
                }
            };
            let j = end.map_or(i, |(j, _)| j);
            let is_place = |w: &Word<'_>| d.kinds_of(w.text) & PLACE != 0;
            let compass = || {
                run.get(i.saturating_sub(1)..=i)
                    .is_some_and(|ws| ws.iter().any(|w| d.kinds_of(w.text) & DIRECTION != 0))
            };
            // A place word anywhere before the name in its run names the
            // place after the person: Lagoa Pedro Henrique Santos.
            let near = run.get(..(j + 2).min(run.len()));
            let company = || {
                run.get(i..=j)
                    .is_some_and(|ws| ws.iter().any(|w| company_after(text, w.end)))
            };
            let place = || {
                compass()
                    || near.is_some_and(|ws| ws.iter().any(is_place))
                    || place_before(d, text, first.start)
            };
            let score = match score > 0.0 && (place() || company()) {
                true => 0.0,
                false => score,
            };
            if score > 0.0 {
                if let Some(last) = run.get(j) {
                    out.push(Match {
                        entity: "PERSON",
                        start: first.start,
                        end: last.end,
                        score,
                        detail: None,
                    });
                }
                i = j + 1;
            } else {
                i += 1;
            }
        }
    }
}

/// Whether a mask (`*`) ends just before `start`, joined to it or by one
/// space or hyphen.
fn after_mask(text: &str, start: usize) -> bool {
    let before = text.get(..start).unwrap_or("");
    before
        .strip_suffix([' ', '-'])
        .unwrap_or(before)
        .ends_with('*')
}

/// The score of a run of two or more capitalised words from whether its
/// first word is a first name, its last a surname, and a cue comes before.
fn score(first: Known, last: Known, cued: bool) -> f32 {
    use Known::{Guess, No, Weak, Yes};
    let base = match (first, last) {
        (Yes, Yes) | (Yes, Weak) | (Weak, Yes) => 0.85,
        // A known name beside a word shaped like one: Nevise Demir.
        (Yes, Guess) | (Guess, Yes) => 0.7,
        (Yes, No) => 0.55,
        // John Smith, Grace Hill: both are names and words.
        (Weak, Weak) => 0.5,
        // Needs a context word.
        (Weak, Guess) | (Guess, Weak) | (Guess, Guess) | (No, Yes) => 0.4,
        (Weak, No) | (No, Weak) | (No, No) | (Guess, No) | (No, Guess) => 0.0,
    };
    if cued {
        f32::max(base, 0.6)
    } else {
        base
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str) -> Vec<(String, f32)> {
        let mut out = Vec::new();
        find(text, &mut out);
        out.into_iter()
            .map(|m| (text[m.start..m.end].to_string(), m.score))
            .collect()
    }

    #[test]
    fn dictionary_names_titles_and_initials() {
        let n = names("Yesterday Mary Johnson met Dr. Okonkwo and John F. Kennedy at the Bank.");
        assert!(n.contains(&("Mary Johnson".into(), 0.85)), "{n:?}");
        assert!(n.contains(&("John F. Kennedy".into(), 0.85)), "{n:?}");
        assert!(n.iter().any(|(s, _)| s == "Okonkwo"), "{n:?}");
        assert!(
            !n.iter()
                .any(|(s, _)| s.contains("Yesterday") || s.contains("Bank")),
            "{n:?}"
        );
        let n = names("Hans-Jürgen Müller und Frau Schmidt");
        assert!(
            n.iter()
                .any(|(s, v)| s == "Hans-Jürgen Müller" && *v >= 0.85),
            "{n:?}"
        );
        assert!(n.iter().any(|(s, _)| s == "Schmidt"), "{n:?}");
        let mut n = names("Refund to the account holder Qarin Sxtty today; Qarin Sxtty again");
        n.retain(|(_, score)| *score >= 0.5);
        assert_eq!(
            n,
            vec![("Qarin Sxtty".to_string(), 0.6)],
            "only the cued one"
        );
    }

    #[test]
    fn names_of_many_languages_with_particles_and_accents() {
        for (text, name) in [
            (
                "Gesprek met Jan van der Berg over de levering.",
                "Jan van der Berg",
            ),
            (
                "Conversei com Maria da Silva sobre a entrega.",
                "Maria da Silva",
            ),
            (
                "Ticket assigned to Omar al-Rashid yesterday.",
                "Omar al-Rashid",
            ),
            (
                "Approvato da Giuseppe d'Amico il lunedì.",
                "Giuseppe d'Amico",
            ),
            ("Rozmowa z Łukasz Wójcik o dostawie.", "Łukasz Wójcik"),
            ("Bordro: Ayşe Yılmaz, mühendis", "Ayşe Yılmaz"),
            // "płac" (pay) folds to "plac" (a square): no place.
            ("Lista płac: Andrzej Kwarciak, Technik", "Andrzej Kwarciak"),
            ("Spoke with Hiroshi Tanaka and then left.", "Hiroshi Tanaka"),
            (
                "Escalated to Priya Venkataraman today.",
                "Priya Venkataraman",
            ),
        ] {
            let n = names(text);
            assert!(
                n.iter().any(|(s, v)| s == name && *v >= 0.5),
                "{text}: {n:?}"
            );
        }
        // Titles and cues of other languages.
        for (text, name) in [
            ("Sehr geehrte Frau Becker, danke.", "Becker"),
            ("Szanowna Pani Zofia Kwiatkowska,", "Zofia Kwiatkowska"),
            ("Szanowny Panie Michał Błasik, zamówienie", "Michał Błasik"),
            (
                "Geachte heer Pleun van het Heerenveen,",
                "Pleun van het Heerenveen",
            ),
            ("Estimado Xqwer Zrtvu: gracias.", "Xqwer Zrtvu"),
            ("titular de la cuenta Xqwer Zrtvu", "Xqwer Zrtvu"),
            ("Sehr geehrte Xqwer Zrtvu,", "Xqwer Zrtvu"),
            ("(Kontoinhaber Xqwer Zrtvu)", "Xqwer Zrtvu"),
            ("Xqwer Zrtvu Bey geldi", "Xqwer Zrtvu"),
            ("onay Xqwer Zrtvu tarafından verildi", "Xqwer Zrtvu"),
            ("thanks Xqwer Zrtvu-san", "Xqwer Zrtvu-san"),
            ("Anna Maria De Luca called.", "Anna Maria De Luca"),
            ("Juan Carlos De La Fuente", "Juan Carlos De La Fuente"),
            ("Please ask Tanaka-san.", "Tanaka-san"),
            ("Mehmet Bey geldi.", "Mehmet"),
            ("Mehmet Bey ile görüştük.", "Mehmet"),
            ("Dear Oliver, thanks", "Oliver"),
            ("Sayın Yılmaz, teşekkürler", "Yılmaz"),
            ("Sayın Xqwer Zrtvu, teşekkürler.", "Xqwer Zrtvu"),
            // Turkish "ile" (with) after a name; the acts that take a
            // person in each language.
            (
                "Lütfen Hürmet Erdoğan ile iletişime geçin.",
                "Hürmet Erdoğan",
            ),
            ("Xqwer Zrtvu ile görüşüldü.", "Xqwer Zrtvu"),
            ("gefactureerd aan Xqwer Zrtvu.", "Xqwer Zrtvu"),
            ("Neem contact op met Xqwer Zrtvu via", "Xqwer Zrtvu"),
            ("obciążono Xqwer Zrtvu.", "Xqwer Zrtvu"),
            ("Approved by Xqwer Zrtvu on 2024-01-02.", "Xqwer Zrtvu"),
            ("Facturé à Xqwer Zrtvu.", "Xqwer Zrtvu"),
            // Turkish given names few sources outside Turkey list.
            ("Bordro: Fehmiye Güçlü, Komiser", "Fehmiye Güçlü"),
            // A surname that is an English word, after a cue.
            ("(Kontoinhaber Elise Warmer)", "Elise Warmer"),
            (
                "Talep Sevginur Yorulmaz (x@example.org) kişisine",
                "Sevginur Yorulmaz",
            ),
        ] {
            let n = names(text);
            assert!(
                n.iter().any(|(s, v)| s == name && *v >= 0.5),
                "{text}: {n:?}"
            );
        }
    }

    #[test]
    fn honorifics_are_not_names_of_their_own() {
        for (text, name) in [
            ("Ayşe Demir Hanım geldi.", "Ayşe Demir"),
            ("Mehmet Bey ile görüştük.", "Mehmet"),
        ] {
            let n = names(text);
            let reported: Vec<&str> = n
                .iter()
                .filter(|(_, v)| *v >= 0.5)
                .map(|(s, _)| s.as_str())
                .collect();
            assert_eq!(reported, [name], "{text}");
        }
    }

    #[test]
    fn names_that_are_ordinary_words_need_a_real_name_beside_them() {
        // Both parts are names and words: not a name without context.
        for text in ["The Grant Park entrance", "Visit the Garden Hotel."] {
            assert!(
                names(text).iter().all(|(_, s)| *s < 0.5),
                "{text}: {:?}",
                names(text)
            );
        }
        let n = names("Kontoinhaber Mariusz Heinz-Otto Kaul, Konto ****** Tena de Huesca.");
        assert_eq!(n, vec![("Mariusz Heinz-Otto Kaul".into(), 0.85)]);
        let n = names("Jan Berg signed the form.");
        assert!(n.contains(&("Jan Berg".into(), 0.85)), "{n:?}");
        assert!(joins(" ") && joins(" van der ") && joins(" al-") && joins(" de la "));
        assert!(!joins(" and ") && !joins("  ") && !joins(" van der de la ") && !joins(", "));
    }

    #[test]
    fn the_model_loads_and_guesses_unseen_names_not_words() {
        let d = dictionaries().and_then(|d| d.model.as_ref());
        let m = d.expect("data/name_model.bin parses");
        let guessed = |w: &str| m.name_like(fold(w).as_bytes());
        // Not in the dictionaries, shaped like names.
        for w in ["Kaleema", "Hilayda", "Yagnesh", "Oeshi"] {
            assert!(guessed(w), "{w}");
        }
        for w in ["Invoice", "Questions", "Company", "Fundacja", "Stichting"] {
            assert!(!guessed(w), "{w}");
        }
        assert!(Model::parse(b"RNM1\0\0\0\0short").is_none());
        let n = names("fatura Hilayda Demir adına");
        assert!(
            n.iter().any(|(s, v)| s == "Hilayda Demir" && *v >= 0.5),
            "{n:?}"
        );
    }

    /// The dictionaries are written as [`fold`] makes a word: a name
    /// folded differently by the Python generator would never be found.
    #[test]
    fn dictionaries_are_folded_as_lookups_fold() {
        for list in [FIRST_NAMES, LAST_NAMES, NAME_WORDS] {
            assert!(list.lines().count() > 5000);
            for name in list.lines() {
                assert_eq!(fold(name), name);
                assert!(
                    name.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
                    "{name}"
                );
            }
        }
        assert_eq!(fold("Wójcik-Łękawa"), "wojcik-lekawa");
        assert_eq!(fold("Yılmaz"), "yilmaz");
        assert_eq!(fold("O’Brien"), "obrien");
        assert_eq!(fold("Strauß"), "strauss");
    }

    #[test]
    fn capitalised_words_and_initials() {
        let words: Vec<&str> = capitalised(
            "iPhone O'Brien, Hans-Jürgen met ÉMILE Émile (F. Kennedy) AB.C, X. McDonald’s",
        )
        .map(|w| w.text)
        .collect();
        assert_eq!(
            words,
            vec![
                "Phone",
                "O'Brien",
                "Hans-Jürgen",
                "Émile",
                "F.",
                "Kennedy",
                "X.",
                "McDonald’s"
            ]
        );
        assert_eq!(capitalised("É").count(), 0, "a lone capital is no word");
        // An initial is not the end of a word.
        let initials = |t| capitalised(t).map(|w| w.text).collect::<Vec<_>>();
        assert_eq!(initials("aÉ. É. aB. B. _C."), vec!["É.", "B."]);
    }

    proptest::proptest! {
        /// The hand-written scanner finds what a regular expression
        /// finds (the one it replaced, with a Unicode word boundary).
        #[test]
        fn capitalised_words_as_the_regex_finds_them(text in "[aAbBéÉß'’. _1-]{0,40}") {
            let re = regex::Regex::new(
                r"\p{Lu}(?:\p{Ll}|['’]\p{Lu})[\p{L}'’-]*|\b\p{Lu}\.",
            )
            .unwrap();
            let want: Vec<(usize, usize)> = re.find_iter(&text).map(|m| (m.start(), m.end())).collect();
            let got: Vec<(usize, usize)> = capitalised(&text).map(|w| (w.start, w.end)).collect();
            proptest::prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn ordinary_capitalised_words_are_not_names() {
        for text in [
            "The Quick Brown Fox",
            "New York City",
            "Victoria Station",
            "Via Giuseppe Verdi",
            "Schmidt Müller GmbH",
            "Andersen Junction",
            "Catherine Expressway",
            "in North Glenn today",
            "Rodovia de Freitas",
            "Logística del Sur S.L.L., Calle de Adolfo Bellido, Vizcaya",
            "12 rue du Général Leclerc",
            "Benavides & Asociados S.L., Pasaje de Nadia Jimenez, Almería",
            "la factura de Graciano Gimeno Escalona S.A.U.",
            "Akar Arslan A.Ş., Durdu",
            "Machine Learning Model Card",
            // An ordinary English word at an end: a term, not a person.
            "We tuned the Adam Optimizer with a Taylor Series.",
            "Clients include Johnson Controls.",
            "Dear Hiring Manager, please find attached.",
            "Kind Regards, Support Team",
            // Turkish legal forms after a person's name, even a single one
            // (not the Japanese honorific San).
            "Zorlu Gül San., Şama Spur",
            "Sayın müşteri, Aksu San. siparişi",
            "Mansız Şti., Rasul Path",
            // Streets named after people, behind a street type anywhere
            // before them (Brazil's Correios types).
            "Cavalcanti, Lagoa Pedro Henrique Santos, Marques.",
            "Parque João Guilherme da Rocha",
            "Bozbağ Plain, North Yamin",
            // After a locative preposition: a town.
            "resident in Vargas Alegre today",
            "residente em Santos do Norte.",
        ] {
            assert!(
                names(text).iter().all(|(_, s)| *s < 0.5),
                "{text}: {:?}",
                names(text)
            );
        }
    }
}
