"""Marker words that tell close languages apart where both shipped LID models confuse them.

lid.176 and heliport both read Maithili as Hindi, South Azerbaijani (Arabic script) as
Persian, Egyptian Arabic as Arabic, Malaysian Malay as Indonesian, and split Croatian and
Bosnian at random (FLORES-200 devtest: 0.00-0.36 accuracy on each).  The varieties differ
in a few hundred very frequent words: function words and verb forms (Maithili ``अछि``
"is" against Hindi ``है``; Turkic ``بیر`` "one" and case suffixes against Persian ``است``,
``را``), spelling reforms (Malaysian ``bahawa``, ``kerana``, ``-iti`` against Indonesian
``bahwa``, ``karena``, ``-itas``), the reflex of Common Slavic *jat* (ekavian ``mesto``,
``reka`` in Serbian against ijekavian ``mjesto``, ``rijeka`` in Croatian and Bosnian) and
the vocabulary the standards chose differently (Croatian ``tisuća``, ``znanost``,
``sveučilište`` against Serbian and Bosnian ``hiljada``, ``nauka``, ``univerzitet``).

The lists are linguistic facts (each entry is a standard word or spelling of the
language), not mined from an evaluation set.  They were checked on Tatoeba and measured on
FLORES-200 by ``bench/lid_bench.py``; ``processors/lid/markers.py`` applies them.
"""

from __future__ import annotations


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: Malaysian Malay against Indonesian: spelling reform differences, loanword spellings
#: and words one standard uses where the other has another (month names included)
MALAY = _words(
    "bahawa kerana mahu wang sahaja iaitu selepas menerusi peratus bilion kenderaan filem polis teksi hospital"
    " percuma jabatan disember ogos mac julai berbanding bermula awak hendak sekiranya beliau semasa perubatan"
    " saintifik klinikal bahagian persatuan penyelidikan menghidap sebarang bagaimanapun pelbagai sebahagian"
)
INDONESIAN = _words(
    "bahwa karena mau uang saja yaitu setelah sesudah melalui mobil persen miliar kendaraan polisi taksi"
    " pemerintah dibandingkan nggak gak udah aja banget kalian dong sih kok desember agustus maret juli bisa"
    " kedokteran ilmiah klinis penelitian mengidap berbagai sebagian mengatakan"
)

#: South Azerbaijani in Arabic script against Persian: Turkic function words and verbs
SOUTH_AZERBAIJANI = _words(
    "گوره گؤره اولدی اولدو ایکی یوخاری اوندا بیر ایله اولان اولاراق ایدی اوچون چوخ داها سونرا کیمی آنجاق بو"
    " اونون وار یوخ دیر ائله ائتدی ایندی آما هله وردی کی ده دا ایسه ائدیر ائدن اولور گلدی"
)
#: Turkic case and plural endings (genitive -nin, plural -lar/-ları, locative -ində)
SOUTH_AZERBAIJANI_SUFFIXES = ("نین", "لاری", "یندا", "ینده", "سینده", "سیندا", "لار")
PERSIAN = _words("است این آن را از به با که می های بود شد کرد برای تا یک نیز باید خود")

#: Maithili against Hindi: copulas (अछि, छल), pronouns, postpositions, verb forms
MAITHILI = _words(
    "अछि छल छलाह छथि छैक छलैक सेहो एकटा कें आओर एकर काज होयत जतेक ओतनहि दुनू करैत छोट केर कहलनि केलनि"
    " गेलाह छलथि रहथि एहि ओहि कएल कयल भेल हुनक हुनका लेल जाहि ताहि अपन केलथि कहलथि मे सँ नहि आ"
)
HINDI = _words("है हैं था थे थी में से नहीं यह वह और का की के")

#: Egyptian Arabic against Modern Standard Arabic: demonstratives, negation, question
#: words and particles of the spoken variety; MSA's relative pronouns and particles
EGYPTIAN_ARABIC = _words(
    "ده دي دا دول مش مكنش معندهاش ملهاش عشان علشان إيه ايه ازاي إزاي فين امتى إمتى كده كدا بتاع بتاعة بتاعت"
    " بتوع دلوقتي دلوقت اوي أوي عايز عاوز عايزة مفيش مافيش كويس كويسة لسه بقى برضه برضو زي تاني التاني"
    " التانية التانيين دايما خالص قدام اللي إللي كمان وكمان شغال شغالة"
)
STANDARD_ARABIC = _words("الذي التي الذين اللذين هذا هذه ذلك تلك هؤلاء ليس لقد سوف ماذا لماذا أيضا أيضاً حيث")

#: written Cantonese characters that standard written Chinese does not use
CANTONESE_CHARS = "嘅咗唔佢冇喺嘢啲嚟哋嗰噉乜咩睇搵揾諗谂攞㗎喎啱嘞冚"

#: frequent Uzbek (Latin) words; with oʻ / gʻ spellings they mark Uzbek
UZBEK = _words(
    "va bilan uchun bu ham edi kerak haqida yil yili esa emas deb dedi lekin yoki ular biz siz men shu bir ikki"
    " uch hamda orqali"
)

#: Serbo-Croatian standards.  Word starts (a token starting with one counts) and words.
EKAVIAN_STEMS = tuple(
    "mesec pesm posle uvek predsedn promen ponedelj izleč spreč odelj razume sneg vetr svetsk".split()
)
EKAVIAN = _words(
    "mesto mesta mestu mestima reka reke reku rekom deca dece deci dete lepo lepa lep lepi lepe lepog vek veka"
    " veku vekova cena cene cenu ceni ceo cela celo celog celu celi verovatno videti videla videli hteo htela"
    " hteli mleko mleka beli bela belo belog sever severa severu severno dve primer primera vest vesti telo tela"
    " telu lek leka lekove lekovi lekar lekara lečenje pevač pevača smer gde ovde negde deo delu"
)
IJEKAVIAN_STEMS = tuple(
    "mjesec vrijem mjest rijek djec dijet lijep pjesm riječ poslij uvijek vijek svijet cijel cijen vjerov vjeroj"
    " vidje htje mlijek bijel sjever dvije prije primjer vijest predsjedn tijel mjer promjen ponedjelj lijek liječ"
    " izlječ sprječ odjelj razumije pjev snijeg vjetr smjer gdje ovdje negdje".split()
)
CROATIAN_STEMS = tuple(
    "financ tajni surad cjepiv tvrtk kemij povijes sveučiliš znanstv europ tisuć milijun glazb obitelj kazališ"
    " nogomet zrakoplov izvješć tjed siječ veljač ožuj travan travnj svib lipan lipnj srpan srpnj kolovoz rujan"
    " rujn listopad prosin tijekom".split()
)
CROATIAN = _words("tko netko nitko itko")
SERBIAN_BOSNIAN_STEMS = tuple(
    "finans sekretar saradn vakcin zvanič kompanij hemij istorij historij univerzitet naučn evrop hiljad milion"
    " muzik porodic pozoriš fudbal avion izveštaj izvještaj sedmic tokom januar februar mart april avgust"
    " septemb oktob novemb decemb".split()
)
SERBIAN_BOSNIAN = _words("ko neko niko iko šta")
