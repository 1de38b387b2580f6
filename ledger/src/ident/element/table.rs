//! The Application Identifiers Salvage supports, transcribed from the GS1
//! Barcode Syntax Dictionary (`gs1-syntax-dictionary.txt`, GS1 AISBL), whose
//! entries refine the AI table of GS1 General Specifications §3.2. Each entry
//! below quotes its dictionary line.
//!
//! The dictionary's `req=` (mandatory pairings) is not enforced: the dictionary
//! itself says pairings are judged over all the carriers on a physical item,
//! which one element string cannot see. Its `ex=` within one measure family
//! (`ex=310n`: one net weight, in one number of decimals) is enforced through
//! [`Definition::exclusive`].

/// The characters a component may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Charset {
    /// `N`: the digits 0–9.
    Numeric,
    /// `X`: GS1 AI encodable character set 82 (General Specifications Figure 7.11-1).
    Cset82,
}

/// A content check of the dictionary ("linter") applied to one component.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Lint {
    /// No check beyond the character set.
    None,
    /// `csum`: the last digit is the GS1 check digit (General Specifications §7.9).
    CheckDigit,
    /// `yymmd0` (day 00 allowed, meaning "any day of the month") or `yymmdd`.
    Date {
        /// Whether day 00 is allowed.
        day_zero: bool,
    },
    /// `hhmm`: hours 00–23, minutes 00–59.
    Time,
    /// `zero`: the single digit 0 (the GRAI filler digit).
    Zero,
    /// `key`: the component starts with a GS1 company prefix, whose first 4 characters are digits.
    CompanyPrefix,
    /// `importeridx`: one of `-`, `0`–`9`, `A`–`Z`, `_`, `a`–`z`.
    ImporterIndex,
}

/// One component of an AI's value, such as `N13,csum` or `[X..16]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Component {
    pub(super) charset: Charset,
    pub(super) min: usize,
    pub(super) max: usize,
    pub(super) optional: bool,
    pub(super) lint: Lint,
}

impl Component {
    /// `N<len>`: exactly `len` digits.
    const fn n(len: usize) -> Self {
        Component { charset: Charset::Numeric, min: len, max: len, optional: false, lint: Lint::None }
    }

    /// `N..<max>`: 1 to `max` digits.
    const fn n_up_to(max: usize) -> Self {
        Component { charset: Charset::Numeric, min: 1, max, optional: false, lint: Lint::None }
    }

    /// `X<len>`: exactly `len` characters of set 82.
    const fn x(len: usize) -> Self {
        Component { charset: Charset::Cset82, min: len, max: len, optional: false, lint: Lint::None }
    }

    /// `X..<max>`: 1 to `max` characters of set 82.
    const fn x_up_to(max: usize) -> Self {
        Component { charset: Charset::Cset82, min: 1, max, optional: false, lint: Lint::None }
    }

    /// The same component with a content check.
    const fn lint(self, lint: Lint) -> Self {
        Component { lint, ..self }
    }

    /// The same component in brackets: it may be left out at the end of the value.
    const fn optional(self) -> Self {
        Component { optional: true, ..self }
    }
}

/// How one AI (or a family of AIs such as 3100–3105) is written.
#[derive(Debug)]
pub(super) struct Definition {
    /// The AIs sharing this definition.
    pub(super) codes: &'static [&'static str],
    /// The dictionary's short title.
    pub(super) title: &'static str,
    /// `*` in the dictionary: a predefined length, needing no FNC1 separator in a barcode.
    pub(super) predefined_length: bool,
    /// The components of the value, in order.
    pub(super) components: &'static [Component],
    /// Whether the AIs of this family exclude one another (`ex=310n` and the like).
    pub(super) exclusive: bool,
}

const DATE: Component = Component::n(6).lint(Lint::Date { day_zero: true });
const GTIN: &[Component] = &[Component::n(14).lint(Lint::CheckDigit)];
const GLN: &[Component] = &[Component::n(13).lint(Lint::CheckDigit)];
const MEASURE: &[Component] = &[Component::n(6)];

/// Builds a definition; `exclusive` families are the measures with a decimal-places digit.
const fn ai(
    codes: &'static [&'static str],
    title: &'static str,
    predefined_length: bool,
    components: &'static [Component],
) -> Definition {
    Definition { codes, title, predefined_length, components, exclusive: false }
}

/// A measure family `ABCn`, n = decimal places 0–5, whose members exclude one another.
const fn measure(codes: &'static [&'static str], title: &'static str) -> Definition {
    Definition { codes, title, predefined_length: true, components: MEASURE, exclusive: true }
}

/// The supported AIs in the dictionary's lexical order.
pub(super) static DEFINITIONS: &[Definition] = &[
    // 00 * N18,csum,key  dlpkey  # SSCC
    ai(&["00"], "SSCC", true, &[Component::n(18).lint(Lint::CheckDigit)]),
    // 01 * N14,csum,key  ex=02,255,37 dlpkey=22,10,21|235  # GTIN
    ai(&["01"], "GTIN", true, GTIN),
    // 02 * N14,csum,key  req=37  # CONTENT
    ai(&["02"], "CONTENT", true, GTIN),
    // 10 X..20  # BATCH/LOT
    ai(&["10"], "BATCH/LOT", false, &[Component::x_up_to(20)]),
    // 11 * N6,yymmd0  # PROD DATE
    ai(&["11"], "PROD DATE", true, &[DATE]),
    // 13 * N6,yymmd0  # PACK DATE
    ai(&["13"], "PACK DATE", true, &[DATE]),
    // 15 * N6,yymmd0  # BEST BEFORE or BEST BY
    ai(&["15"], "BEST BEFORE or BEST BY", true, &[DATE]),
    // 16 * N6,yymmd0  # SELL BY
    ai(&["16"], "SELL BY", true, &[DATE]),
    // 17 * N6,yymmd0  # USE BY or EXPIRY
    ai(&["17"], "USE BY or EXPIRY", true, &[DATE]),
    // 20 * N2  # VARIANT
    ai(&["20"], "VARIANT", true, &[Component::n(2)]),
    // 21 X..20  # SERIAL
    ai(&["21"], "SERIAL", false, &[Component::x_up_to(20)]),
    // 22 X..20  # CPV
    ai(&["22"], "CPV", false, &[Component::x_up_to(20)]),
    // 235 X..28  # TPX
    ai(&["235"], "TPX", false, &[Component::x_up_to(28)]),
    // 240 X..30  # ADDITIONAL ID
    ai(&["240"], "ADDITIONAL ID", false, &[Component::x_up_to(30)]),
    // 241 X..30  # CUST. PART No.
    ai(&["241"], "CUST. PART No.", false, &[Component::x_up_to(30)]),
    // 250 X..30  # SECONDARY SERIAL
    ai(&["250"], "SECONDARY SERIAL", false, &[Component::x_up_to(30)]),
    // 251 X..30  # REF. TO SOURCE
    ai(&["251"], "REF. TO SOURCE", false, &[Component::x_up_to(30)]),
    // 254 X..20  req=414  # GLN EXTENSION COMPONENT
    ai(&["254"], "GLN EXTENSION COMPONENT", false, &[Component::x_up_to(20)]),
    // 30 N..8  # VAR. COUNT
    ai(&["30"], "VAR. COUNT", false, &[Component::n_up_to(8)]),
    // 3100-3105 * N6  ex=310n  # NET WEIGHT (kg)
    measure(&["3100", "3101", "3102", "3103", "3104", "3105"], "NET WEIGHT (kg)"),
    // 3110-3115 * N6  ex=311n  # LENGTH (m)
    measure(&["3110", "3111", "3112", "3113", "3114", "3115"], "LENGTH (m)"),
    // 3120-3125 * N6  ex=312n  # WIDTH (m)
    measure(&["3120", "3121", "3122", "3123", "3124", "3125"], "WIDTH (m)"),
    // 3130-3135 * N6  ex=313n  # HEIGHT (m)
    measure(&["3130", "3131", "3132", "3133", "3134", "3135"], "HEIGHT (m)"),
    // 3140-3145 * N6  ex=314n  # AREA (m²)
    measure(&["3140", "3141", "3142", "3143", "3144", "3145"], "AREA (m²)"),
    // 3150-3155 * N6  ex=315n  # NET VOLUME (l)
    measure(&["3150", "3151", "3152", "3153", "3154", "3155"], "NET VOLUME (l)"),
    // 3160-3165 * N6  ex=316n  # NET VOLUME (m³)
    measure(&["3160", "3161", "3162", "3163", "3164", "3165"], "NET VOLUME (m³)"),
    // 3300-3305 * N6  ex=330n  # GROSS WEIGHT (kg)
    measure(&["3300", "3301", "3302", "3303", "3304", "3305"], "GROSS WEIGHT (kg)"),
    // 3370-3375 * N6  ex=337n  # KG PER m²
    measure(&["3370", "3371", "3372", "3373", "3374", "3375"], "KG PER m²"),
    // 37 N..8  # COUNT
    ai(&["37"], "COUNT", false, &[Component::n_up_to(8)]),
    // 3920-3929 N..15  req=01 req=30,31nn,32nn,35nn,36nn ex=392n,393n  # PRICE
    Definition {
        codes: &["3920", "3921", "3922", "3923", "3924", "3925", "3926", "3927", "3928", "3929"],
        title: "PRICE",
        predefined_length: false,
        components: &[Component::n_up_to(15)],
        exclusive: true,
    },
    // 400 X..30  # ORDER NUMBER
    ai(&["400"], "ORDER NUMBER", false, &[Component::x_up_to(30)]),
    // 414 * N13,csum,key  dlpkey=254|7040  # LOC No.
    ai(&["414"], "LOC No.", true, GLN),
    // 416 * N13,csum,key  # PROD/SERV LOC
    ai(&["416"], "PROD/SERV LOC", true, GLN),
    // 7003 N6,yymmdd N4,hhmm  # EXPIRY TIME
    ai(
        &["7003"],
        "EXPIRY TIME",
        false,
        &[Component::n(6).lint(Lint::Date { day_zero: false }), Component::n(4).lint(Lint::Time)],
    ),
    // 7023 X..30,key  # GIAI - ASSEMBLY
    ai(&["7023"], "GIAI - ASSEMBLY", false, &[Component::x_up_to(30).lint(Lint::CompanyPrefix)]),
    // 7040 N1 X1 X1 X1,importeridx  # UIC+EXT
    ai(
        &["7040"],
        "UIC+EXT",
        false,
        &[Component::n(1), Component::x(1), Component::x(1), Component::x(1).lint(Lint::ImporterIndex)],
    ),
    // 7230-7239 X2 X..28  req=01,8004  # CERT # 1 … CERT # 10
    ai(
        &["7230", "7231", "7232", "7233", "7234", "7235", "7236", "7237", "7238", "7239"],
        "CERT #",
        false,
        &[Component::x(2), Component::x_up_to(28)],
    ),
    // 8003 N1,zero N13,csum,key [X..16]  dlpkey  # GRAI
    ai(
        &["8003"],
        "GRAI",
        false,
        &[Component::n(1).lint(Lint::Zero), Component::n(13).lint(Lint::CheckDigit), Component::x_up_to(16).optional()],
    ),
    // 8004 X..30,key  dlpkey=7040  # GIAI
    ai(&["8004"], "GIAI", false, &[Component::x_up_to(30).lint(Lint::CompanyPrefix)]),
    // 8200 X..70  req=01  # PRODUCT URL
    ai(&["8200"], "PRODUCT URL", false, &[Component::x_up_to(70)]),
    // 90 X..30  # INTERNAL
    ai(&["90"], "INTERNAL", false, &[Component::x_up_to(30)]),
    // 91-99 X..90  # INTERNAL
    ai(&["91", "92", "93", "94", "95", "96", "97", "98", "99"], "INTERNAL", false, &[Component::x_up_to(90)]),
];
