# ruff: noqa: RUF001  (the texts are in Cyrillic, Turkish and Arabic script on purpose)
"""Short documents in the ten languages the OCR reads, for ``samples.langpages``.

Per Tesseract language code three invented documents of a few lines each, as they reach a
job center: a certificate (an employer's, a school's), a rent receipt and an authority's
letter. Every name, address and figure is made up. The lines are drawn as they are written
here (long ones wrapped to the page); for Arabic and Persian in logical (reading) order, which
Pillow's text shaping (raqm) lays out right to left.
"""

from __future__ import annotations

#: Tesseract code → (certificate, rent receipt, letter), each lines joined by newlines.
DOCUMENTS: dict[str, tuple[str, str, str]] = {
    "deu": (
        "ARBEITSBESCHEINIGUNG\n"
        "Hiermit bestätigen wir, dass Frau Käthe Schröder seit dem 1. März 2020 bei der "
        "Müller & Söhne GmbH als Bürokauffrau beschäftigt ist.\n"
        "Das durchschnittliche monatliche Bruttoentgelt der letzten sechs Monate beträgt "
        "2.950 Euro.\n"
        "Diese Bescheinigung wird zur Vorlage beim Jobcenter ausgestellt.\n"
        "Geschäftsführer: Jürgen Weiß",
        "QUITTUNG über eine Mietzahlung\n"
        "Erhalten von Herrn Björn Krüger den Betrag von 650,00 Euro für die Miete der Wohnung "
        "Lindenstraße 14, 04109 Leipzig, für den Monat Juni 2024.\n"
        "Vermieterin: Bärbel Köhler\n"
        "Datum: 3. Juni 2024",
        "Sehr geehrte Frau Jäger,\n"
        "Ihr Antrag auf Leistungen ist bei uns eingegangen. Wir werden ihn innerhalb von zwei "
        "Wochen bearbeiten.\n"
        "Bitte senden Sie uns eine Kopie Ihres Personalausweises und Ihre Einkommensnachweise.\n"
        "Mit freundlichen Grüßen\n"
        "Ihr Jobcenter",
    ),
    "eng": (
        "CERTIFICATE OF EMPLOYMENT\n"
        "This is to certify that Mr David Thompson has been employed by Riverside Logistics "
        "Ltd as a warehouse supervisor since 4 January 2021.\n"
        "His average gross monthly salary over the last six months was 2,650 pounds.\n"
        "This certificate is issued at his request for submission to the authorities.\n"
        "Managing Director: Sarah Collins",
        "RENT RECEIPT No. 18\n"
        "Received from Ms Emily Carter the sum of 950 pounds as rent for the flat at "
        "22 Oak Street, Manchester, for the month of May 2024.\n"
        "Landlord: Robert Hughes\n"
        "Date: 1 May 2024",
        "Dear Mr Patel,\n"
        "we are writing to let you know that your application for support has been received "
        "and will be reviewed within two weeks.\n"
        "Please send us a copy of your passport and a statement of your income.\n"
        "Yours sincerely,\n"
        "Social Services Department",
    ),
    "pol": (
        "ZAŚWIADCZENIE O ZATRUDNIENIU\n"
        "Zaświadcza się, że Pani Katarzyna Wiśniewska jest zatrudniona w firmie Słoneczny Dom "
        "Sp. z o.o. na stanowisku księgowej od dnia 1 lutego 2020 r. na czas nieokreślony.\n"
        "Przeciętne miesięczne wynagrodzenie z ostatnich trzech miesięcy wynosi 5 200 zł "
        "brutto.\n"
        "Zaświadczenie wydaje się na prośbę pracownika.\n"
        "Prezes Zarządu: Tomasz Zieliński",
        "POKWITOWANIE\n"
        "Otrzymałem od Pana Piotra Kowalczyka kwotę 2 400 zł (słownie: dwa tysiące czterysta "
        "złotych) tytułem czynszu za mieszkanie przy ulicy Ogrodowej 7/12 w Łodzi za miesiąc "
        "marzec 2024 r.\n"
        "Wynajmujący: Jan Wójcik\n"
        "Data: 5 marca 2024 r.",
        "Szanowna Pani Nowak,\n"
        "uprzejmie informujemy, że Pani wniosek o przyznanie świadczenia wpłynął do naszego "
        "urzędu i zostanie rozpatrzony w ciągu dwóch tygodni.\n"
        "Prosimy o przesłanie kopii dowodu osobistego oraz zaświadczenia o dochodach.\n"
        "Z poważaniem\n"
        "Dział Świadczeń Socjalnych",
    ),
    "tur": (
        "ÇALIŞMA BELGESİ\n"
        "Bu belge, Ayşe Yılmaz'ın şirketimizde 1 Haziran 2019 tarihinden beri muhasebe uzmanı "
        "olarak tam zamanlı çalıştığını gösterir.\n"
        "Son altı ayın ortalama aylık brüt maaşı 38.500 Türk lirasıdır.\n"
        "Belge, ilgilinin isteği üzerine resmi makamlara sunulmak üzere düzenlenmiştir.\n"
        "Genel Müdür: Mehmet Öztürk",
        "KİRA MAKBUZU\n"
        "Sayın Hüseyin Çelik'ten Mart 2024 ayı kira bedeli olarak 12.000 (on iki bin) Türk "
        "lirası teslim alınmıştır.\n"
        "Adres: Çiçek Sokak No. 14 Daire 3, Kadıköy, İstanbul\n"
        "Ev sahibi: Fatma Şahin\n"
        "Tarih: 3 Mart 2024",
        "Sayın Zeynep Demir,\n"
        "yardım başvurunuzun tarafımıza ulaştığını bildirmek isteriz. Başvurunuz iki hafta "
        "içinde değerlendirilecektir.\n"
        "Lütfen pasaportunuzun ve gelir belgenizin bir kopyasını gönderiniz.\n"
        "Saygılarımızla,\n"
        "Sosyal Hizmetler Müdürlüğü",
    ),
    "ron": (
        "ADEVERINȚĂ\n"
        "Prin prezenta se adeverește că doamna Ioana Popescu este angajată a societății "
        "Pădurea Verde S.R.L. în funcția de contabil începând cu data de 1 septembrie 2018.\n"
        "Salariul mediu brut din ultimele șase luni este de 4.800 lei.\n"
        "Eliberăm prezenta adeverință pentru a-i servi la autoritățile competente.\n"
        "Administrator: Mihai Ionescu",
        "CHITANȚĂ nr. 31\n"
        "Am primit de la domnul Andrei Georgescu suma de 1.500 lei (una mie cinci sute lei) "
        "reprezentând chiria pentru luna aprilie 2024 pentru apartamentul din strada Florilor "
        "nr. 9, București.\n"
        "Proprietar: Elena Dumitrescu\n"
        "Data: 2 aprilie 2024",
        "Stimată doamnă Stan,\n"
        "vă informăm că cererea dumneavoastră pentru acordarea ajutorului social a fost "
        "primită și va fi analizată în termen de două săptămâni.\n"
        "Vă rugăm să ne trimiteți o copie a actului de identitate și o adeverință de venit.\n"
        "Cu stimă,\n"
        "Serviciul de Asistență Socială",
    ),
    "ukr": (
        "ДОВІДКА\n"
        "Видана Коваленко Олені Петрівні в тому, що вона дійсно працює в товаристві з "
        "обмеженою відповідальністю «Світанок» на посаді бухгалтера з 1 березня 2021 року.\n"
        "Середня заробітна плата за останні шість місяців становить 14 500 гривень.\n"
        "Довідка видана для подання за місцем вимоги.\n"
        "Директор І. М. Шевчук",
        "КВИТАНЦІЯ № 27\n"
        "Отримано від Бондаренка Андрія Васильовича плату за оренду квартири за січень "
        "2024 року у сумі 8 000 (вісім тисяч) гривень.\n"
        "Адреса квартири: м. Київ, вул. Садова, буд. 12, кв. 5.\n"
        "Орендодавець: Ткаченко Галина Іванівна\n"
        "Дата: 31 січня 2024 року",
        "Шановна пані Мельник!\n"
        "Повідомляємо, що ваша заява про призначення допомоги отримана і буде розглянута "
        "протягом двох тижнів.\n"
        "Будь ласка, надішліть нам копію паспорта та довідку про доходи.\n"
        "З повагою,\n"
        "відділ соціального захисту населення",
    ),
    "rus": (
        "СПРАВКА\n"
        "Выдана Иванову Сергею Николаевичу в том, что он действительно работает в обществе с "
        "ограниченной ответственностью «Восход» в должности водителя с 15 мая 2019 года.\n"
        "Средняя заработная плата за последние шесть месяцев составляет 52 000 рублей.\n"
        "Справка выдана для предъявления по месту требования.\n"
        "Генеральный директор А. В. Соколов",
        "КВИТАНЦИЯ № 14\n"
        "Получено от Петровой Марии Александровны за аренду квартиры за февраль 2024 года "
        "30 000 (тридцать тысяч) рублей.\n"
        "Адрес квартиры: г. Москва, ул. Лесная, д. 8, кв. 21.\n"
        "Арендодатель: Кузнецов Дмитрий Игоревич\n"
        "Дата: 29 февраля 2024 года",
        "Уважаемый господин Смирнов!\n"
        "Сообщаем Вам, что Ваше заявление о назначении пособия получено и будет рассмотрено "
        "в течение двух недель.\n"
        "Пожалуйста, пришлите нам копию паспорта и справку о доходах.\n"
        "С уважением,\n"
        "отдел социальной защиты населения",
    ),
    "bul": (
        "УДОСТОВЕРЕНИЕ\n"
        "Издава се на Георги Петров Димитров в уверение на това, че той работи в „Балкан "
        "Строй“ ЕООД на длъжност технически сътрудник от 1 април 2020 година.\n"
        "Средното месечно възнаграждение за последните шест месеца е 1 850 лева.\n"
        "Удостоверението се издава, за да послужи пред компетентните органи.\n"
        "Управител: С. Иванова",
        "РАЗПИСКА № 9\n"
        "Получих от Мария Стоянова Николова наем за апартамент за месец март 2024 година в "
        "размер на 600 (шестстотин) лева.\n"
        "Адрес на имота: гр. София, ул. „Витоша“ № 15, ап. 3.\n"
        "Наемодател: Петър Христов Колев\n"
        "Дата: 31 март 2024 година",
        "Уважаема госпожо Ангелова,\n"
        "уведомяваме Ви, че Вашето заявление за отпускане на помощ е получено и ще бъде "
        "разгледано в срок от две седмици.\n"
        "Моля, изпратете ни копие от личната карта и служебна бележка за доходите.\n"
        "С уважение,\n"
        "отдел „Социално подпомагане“",
    ),
    "ara": (
        "شهادة عمل\n"
        "نشهد بأن السيد أحمد محمود الخطيب يعمل لدى شركة النور للتجارة بوظيفة محاسب منذ "
        "بداية شهر آذار من عام 2021.\n"
        "ويبلغ راتبه الشهري ثلاثمائة ألف ليرة سورية.\n"
        "أعطيت هذه الشهادة بناء على طلبه لتقديمها إلى من يهمه الأمر.\n"
        "المدير العام سامر يوسف حداد",
        "إيصال استلام إيجار\n"
        "استلمت من السيد خالد عبد الله العمر مبلغ خمسمائة دولار أمريكي وذلك بدل إيجار شقة "
        "سكنية عن شهر كانون الثاني.\n"
        "عنوان الشقة: دمشق، حي المزة، شارع الجلاء.\n"
        "المؤجر: محمد علي السالم",
        "السيدة فاطمة حسن المحترمة،\n"
        "نحيطكم علما بأن طلبكم للحصول على المساعدة قد وصل إلينا وسيتم النظر فيه خلال "
        "أسبوعين.\n"
        "يرجى إرسال نسخة من جواز السفر وشهادة الدخل.\n"
        "مع فائق الاحترام،\n"
        "دائرة الشؤون الاجتماعية",
    ),
    "fas": (
        "گواهی اشتغال به کار\n"
        "بدین وسیله گواهی می\u200cشود که آقای علی رضایی در شرکت پارس گستر به عنوان کارشناس "
        "فروش مشغول به کار است.\n"
        "حقوق ماهانه ایشان پنجاه میلیون ریال می\u200cباشد.\n"
        "این گواهی بنا به درخواست نامبرده صادر شده است.\n"
        "مدیر عامل حسین کریمی",
        "رسید پرداخت اجاره\n"
        "مبلغ دو میلیون تومان از آقای محمد احمدی بابت اجاره آپارتمان برای ماه فروردین "
        "دریافت شد.\n"
        "نشانی: کابل، ناحیه چهارم، کوچه گلها.\n"
        "موجر: مریم حسینی",
        "خانم زهرا محمدی گرامی،\n"
        "به اطلاع شما می\u200cرساند که درخواست شما برای دریافت کمک هزینه دریافت شده و ظرف "
        "دو هفته بررسی خواهد شد.\n"
        "لطفا یک نسخه از گذرنامه و گواهی درآمد خود را برای ما بفرستید.\n"
        "با احترام،\n"
        "اداره امور اجتماعی",
    ),
}

#: The languages in the order ``make eval`` lists them.
LANGUAGES: tuple[str, ...] = tuple(DOCUMENTS)
