//! Generic material for generated applications: names in many scripts,
//! look-alike and invisible characters, countries and their calling codes.
//! Nothing here is a policy's knowledge: banks and enum values come from
//! the compiled policy.

pub(super) const LATIN_FIRST: &[&str] = &[
    "John", "Mary", "James", "Anna", "Peter", "Emma", "David", "Sofia", "Michael", "Laura", "Thomas", "Olivia",
    "Lucas", "Mia", "Noah", "Hannah", "Ahmed", "Fatima", "Kenji", "Yuki", "Minh", "Linh", "Raj", "Priya", "Carlos",
    "Lucia", "Ivan", "Olga", "Kwame", "Amara",
];
pub(super) const LATIN_LAST: &[&str] = &[
    "Smith",
    "Johnson",
    "Brown",
    "Garcia",
    "Miller",
    "Davis",
    "Martin",
    "Bernard",
    "Dubois",
    "Muller",
    "Rossi",
    "Silva",
    "Santos",
    "Nguyen",
    "Tanaka",
    "Sato",
    "Kim",
    "Park",
    "Khan",
    "Singh",
    "Kowalski",
    "Novak",
    "Ivanov",
    "Hansen",
    "Cohen",
    "Okafor",
    "Mensah",
    "Haddad",
    "Yilmaz",
    "Van der Berg",
];
pub(super) const HAN_SURNAME: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "周", "吴", "欧阳", "司马",
];
pub(super) const HAN_GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "秀英", "小明", "建国", "嘉怡", "子涵",
];
/// Chinese transliterations of foreign names, written with a middle dot.
pub(super) const HAN_FOREIGN: &[&str] = &[
    "约翰",
    "史密斯",
    "玛丽",
    "彼得",
    "安娜",
    "大卫",
    "穆罕默德",
    "亚历山大",
    "索菲亚",
];
/// Names in scripts other than Han and ASCII Latin.
pub(super) const OTHER_SCRIPTS: &[&str] = &[
    "Иван Петров",
    "Ольга Смирнова",
    "محمد علي",
    "فاطمة حسن",
    "สมชาย ใจดี",
    "สุดา วงศ์ไทย",
    "김민준",
    "이서연",
    "サトウ ハナコ",
    "たなか たろう",
    "Γιώργος Παπαδόπουλος",
    "राहुल शर्मा",
    "דוד כהן",
    "José García",
    "Zoë Müller",
    "François Lefèvre",
    "Łukasz Nowak",
    "Nguyễn Văn An",
    "Søren Hansen",
    "O'Brien Sean",
    "Smith, John",
    "John Smith 2",
];
/// Characters that look like the dot, the middle dot or the hyphen.
pub(super) const LOOKALIKES: &[char] = &['•', '・', '‧', '．', '‐', '–', '—', '－', '∙', '。'];
pub(super) const INVISIBLE: &[char] = &['\u{200B}', '\u{200E}', '\u{200D}', '\u{2060}'];
/// ISO 3166-1 alpha-2 code, calling code, national number length.
pub(super) const COUNTRIES: &[(&str, &str, usize)] = &[
    ("US", "1", 10),
    ("GB", "44", 10),
    ("DE", "49", 11),
    ("FR", "33", 9),
    ("JP", "81", 10),
    ("KR", "82", 10),
    ("RU", "7", 10),
    ("IN", "91", 10),
    ("TH", "66", 9),
    ("VN", "84", 9),
    ("SA", "966", 9),
    ("EG", "20", 10),
    ("BR", "55", 11),
    ("AU", "61", 9),
    ("HK", "852", 8),
    ("MO", "853", 8),
    ("TW", "886", 9),
    ("SG", "65", 8),
    ("NG", "234", 10),
    ("MX", "52", 10),
    ("IL", "972", 9),
    ("PL", "48", 9),
    ("CN", "86", 11),
];
/// Banks no policy here declares, and misspellings.
pub(super) const UNKNOWN_BANKS: &[&str] = &[
    "Bank of Atlantis",
    "First National Bank",
    "Deutsche Bank",
    "Barclays",
    "Chase",
    "汇丰银行",
    "渣打银行",
    "花旗银行",
    "Standard Chartered",
    "Local Credit Union",
    "",
    "   ",
];
pub(super) const REASONS: &[&str] = &[
    "passport photo unreadable",
    "name does not match the passport",
    "entry certificate expired",
    "the deposit was not confirmed in time",
];
/// Values no enum is expected to have.
pub(super) const NOT_ENUM: &[&str] = &["drivers_license", "id_card", "debit", "other", "UNKNOWN", ""];
