"""Regenerate the fictitious demo consultation ``data/raw/demo_enseignants_ia.csv``.

The file imitates a LimeSurvey/Framaforms export of a questionnaire sent to French teachers
about artificial intelligence in schools (modelled on the IGÉSR survey): UTF-8 with BOM,
``;`` separator, CRLF line ends, one row per respondent. Every answer was written by the
synthese team; names, e-mails, phone numbers and school codes are invented.

How the answers are built, and why:
- short, long, ironic, off-topic, badly typed and personal-data answers are written whole,
  because composing them from parts reads as templated;
- the medium answers (2-4 sentences) are composed from a pool of hand-written sentences
  grouped by theme and stance, joined with connectors so that a favourable sentence followed
  by a critical one reads « ... Mais ... ». Each pool sentence is used at most twice, and
  at most one sentence naming a discipline or a class level goes into one answer, so that
  no respondent teaches both SVT and English;
- one seeded ``random.Random`` drives everything (no set iteration, no hash order), so the
  output is byte-identical on every run.

Usage: ``python scripts/make_demo.py [--output PATH] [--pii-table]`` (standard library only).
"""

from __future__ import annotations

import argparse
import csv
import random
import re
import sys
import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

SEED = 20250303
N_RESPONDENTS = 330
BLANK_SHARE = 0.08
DEFAULT_OUTPUT = Path(__file__).resolve().parent.parent / "data" / "raw" / "demo_enseignants_ia.csv"
COLUMNS = [
    "id_reponse",
    "date_soumission",
    "degre",
    "academie",
    "fonction",
    "forme_ia",
    "ressenti",
    "q_usage_ia",
    "q_besoins",
]

# Tones of an answer. They drive the `ressenti` score (0-10) and the composition plan.
ENTH, FAV, NUA, INQ, HOS, RES, IRO, HS, VIDE, TRIV = (
    "enthousiaste",
    "favorable",
    "nuance",
    "inquiet",
    "hostile",
    "resigne",
    "ironique",
    "hors_sujet",
    "vide",
    "trivial",
)
TONE_CODES = {"E": ENTH, "F": FAV, "N": NUA, "I": INQ, "H": HOS, "R": RES, "X": IRO, "O": HS}

D1, D2 = "1er degré", "2nd degré"
PE, DIR = "Professeur des écoles", "Directeur d'école"
CERT, AGR, PLP = "Professeur certifié", "Professeur agrégé", "Professeur de lycée professionnel"
CPE, DOC, CONTR = "CPE", "Professeur documentaliste", "Professeur contractuel"
FONCTION_DEGRE = {PE: D1, DIR: D1, CERT: D2, AGR: D2, PLP: D2, CPE: D2, DOC: D2, CONTR: D2}

# Unequal on purpose: a few large académies, many below 10 respondents so that small-group
# suppression in the report has something to suppress. Versailles takes the remainder.
ACADEMIE_QUOTAS = {
    "Créteil": 31,
    "Lille": 27,
    "Lyon": 26,
    "Aix-Marseille": 19,
    "Toulouse": 16,
    "Nantes": 15,
    "Bordeaux": 14,
    "Grenoble": 14,
    "Montpellier": 13,
    "Rennes": 12,
    "Normandie": 12,
    "Paris": 11,
    "Nancy-Metz": 10,
    "Orléans-Tours": 10,
    "Strasbourg": 9,
    "Nice": 8,
    "Amiens": 7,
    "La Réunion": 6,
    "Poitiers": 6,
    "Dijon": 5,
    "Reims": 5,
    "Clermont-Ferrand": 4,
    "Besançon": 3,
    "Limoges": 3,
    "Guadeloupe": 3,
    "Martinique": 2,
    "Corse": 2,
    "Guyane": 1,
    "Mayotte": 1,
}

# --------------------------------------------------------------------------------------------
# Sentence pool for the composed medium answers.
# One line per sentence: <stance><degree?><gender?>|<text>; an indented line continues the
# previous one. stance: + favourable, - critical, 0 neutral or a demand; degree 1 or 2 when the
# sentence only fits one school level; gender f or m when it agrees with the writer.
# --------------------------------------------------------------------------------------------
THEMES: dict[str, str] = {
    "preparation": """
+|J'utilise ChatGPT pour générer des exercices différenciés, ça me fait gagner un temps précieux
    le dimanche soir.
+|Pour préparer des textes adaptés à différents niveaux de lecture, c'est vraiment efficace.
+|L'IA m'aide à trouver des idées d'activités quand je suis à court d'inspiration.
+|Je m'en sers pour reformuler les consignes plus simplement pour les élèves en difficulté.
+|Générer une banque de questions de QCM en quelques minutes, c'est appréciable, même s'il faut
    tout relire.
+1|En maternelle, je l'ai utilisée pour inventer des comptines sur le thème de la période, les
    enfants ont adoré.
+1|Pour écrire des problèmes de maths ancrés dans la vie de la classe, c'est très pratique.
+2|Je prépare mes séquences de SVT avec Mistral comme point de départ, puis je retravaille tout.
+2|En anglais, je génère des dialogues adaptés au niveau A2 de mes troisièmes, ce qui était très
    long à écrire avant.
+|C'est un bon outil pour différencier : trois versions d'un même texte en un clic.
+|Ça permet de proposer des exercices supplémentaires aux élèves rapides sans y passer des heures.
0|Les propositions sont souvent banales, il faut de toute façon retravailler derrière.
-|Pour préparer mes cours, j'ai essayé, mais le résultat était tellement générique que j'ai tout
    refait.
-|Les séquences proposées par l'IA sont plates et sans réelle progression, rien à voir avec le
    travail d'un enseignant.
0|Ça peut servir de point de départ pour une séance, pas plus.
+2|J'ai demandé des sujets d'argumentation pour mes secondes, certains étaient vraiment bien
    trouvés.
+2|Je l'utilise pour produire des corrigés détaillés que je distribue après les évaluations.
+1|Je prépare mes dictées différenciées avec l'IA en partant des mots de la semaine.
+|Pour trouver des exemples concrets qui parlent aux élèves, c'est assez bluffant.
+|Quand je manque d'idées pour introduire une notion, je lui demande cinq accroches différentes
    et j'en garde une.
+|Pour construire des grilles de critères de réussite lisibles par les élèves, l'outil est très
    efficace.
+2|En histoire, je m'en sers pour créer des documents fictifs, lettres ou journaux d'époque, que
    les élèves analysent ensuite de façon critique.
+1|Pour les rallyes lecture, je génère des questionnaires sur les albums de la BCD en quelques
    minutes.
+2|Je lui fais produire des textes à trous et des exercices de vocabulaire adaptés à chaque
    groupe de besoin.
""",
    "administratif": """
+2|Pour rédiger les comptes rendus de conseil de classe ou les mails aux familles, c'est un vrai
    gain de temps.
+2|Les appréciations des bulletins, je les rédige maintenant avec l'aide de l'IA, puis je relis
    et j'ajuste.
+1|Rédiger le compte rendu du conseil d'école avec l'IA m'a fait gagner des heures.
+|Tout ce qui est administratif et répétitif pourrait être allégé, et c'est là qu'on perd le
    plus de temps.
+|Si ça peut nous débarrasser d'une partie de la paperasse, je signe tout de suite.
0|Je préférerais qu'on utilise l'IA pour alléger nos tâches administratives plutôt que pour
    faire cours à notre place.
-2|Écrire des appréciations de bulletin avec une machine, c'est mépriser les élèves et les
    familles.
-|On nous vend un gain de temps, mais relire et corriger ce que produit l'outil prend autant de
    temps que de le faire soi-même.
+1|Pour les PPRE et les comptes rendus d'équipe éducative, l'IA m'aide à structurer, je complète
    ensuite à la main.
+|Synthétiser en une page une circulaire de trente pages, franchement, ça aide.
0|Pronote et l'ENT devraient intégrer ce type d'outils plutôt que de nous laisser bricoler chacun
    de notre côté.
+|Je gagne au moins une heure par semaine sur les courriers et les comptes rendus.
+|Pour préparer une rencontre délicate avec des parents, il m'aide à formuler les choses avec
    tact.
+|Rédiger un projet pédagogique ou une demande de subvention prend deux fois moins de temps.
""",
    "triche": """
-2|La moitié des devoirs maison de mes élèves sont faits par ChatGPT, ça se voit immédiatement.
-2|Je ne donne plus de rédaction à la maison, je sais qu'elle sera écrite par une IA.
-2|En philo, les dissertations faites à la maison sont devenues impossibles à évaluer
    honnêtement.
-2|Les élèves copient-collent les réponses sans même les lire, parfois avec la phrase « En tant
    que modèle de langage... » dedans.
-2|Comment évaluer un travail dont on ne sait pas qui l'a écrit ?
-2|La triche est devenue massive et indétectable, et on n'a aucun outil fiable pour la prouver.
0|Il faudrait des consignes nationales sur ce qu'on fait quand un élève rend un devoir écrit par
    une IA.
-2|Certains élèves de seconde m'ont rendu des commentaires de texte parfaits avec des citations
    qui n'existent pas.
-|Les parents eux-mêmes font faire les devoirs par ChatGPT, alors que dire aux enfants ?
-2|Même les rapports de stage en lycée pro sont rédigés par l'IA maintenant.
02|La question n'est plus d'interdire, mais de savoir quels devoirs ont encore du sens à la
    maison.
-2|J'ai parfois l'impression de corriger des copies de robots.
-2|Les élèves ont compris qu'il suffit de photographier l'énoncé pour obtenir la solution
    rédigée.
02f|Je fais désormais presque tout en classe, sur papier, pour être sûre que c'est bien leur
    travail.
-2|Les logiciels de détection ne fonctionnent pas, et accuser un élève sans preuve est
    impossible.
""",
    "esprit_critique": """
-2|Les élèves ne cherchent plus, ils demandent, et ils prennent la première réponse pour argent
    comptant.
-|Je crains une perte de l'effort intellectuel : apprendre, c'est aussi se tromper et chercher.
-|On va former une génération incapable de rédiger trois lignes sans assistance.
-|L'IA donne l'illusion de savoir, c'est ce qui me fait le plus peur.
-|Le risque, c'est que les élèves délèguent leur réflexion à une machine.
0|Il faut absolument travailler l'esprit critique face aux réponses de l'IA, sinon on va droit
    dans le mur.
-2|Déjà qu'ils ont du mal à se concentrer plus de dix minutes, là on leur enlève même l'effort
    d'écrire.
-|La mémorisation et l'effort sont la base des apprentissages, l'IA court-circuite tout ça.
+|Bien utilisée, elle peut au contraire développer l'esprit critique : on compare, on vérifie,
    on discute.
0|Tout dépend de l'usage : un outil pour réfléchir ou un outil pour ne plus réfléchir.
-|Écrire, c'est penser ; si on confie l'écriture à une machine, on ne pense plus.
-2|Mes élèves font déjà mal la différence entre une source fiable et un blog, l'IA ne va rien
    arranger.
+2|J'ai fait analyser à mes élèves les erreurs d'une réponse de ChatGPT, ils ont été bien plus
    critiques que prévu.
-|Montaigne voulait des têtes bien faites plutôt que bien pleines ; avec l'IA, on risque d'avoir
    des têtes vides.
-|La facilité est un piège : pourquoi faire un effort quand la machine répond en deux secondes ?
+|Faire repérer les erreurs d'une IA est un excellent exercice, les élèves adorent prendre la
    machine en défaut.
-|Je vois des élèves qui ne savent plus chercher un mot dans le dictionnaire ni ouvrir un manuel.
-2|Les élèves font davantage confiance à ChatGPT qu'à leur professeur, c'est le monde à l'envers.
-|L'IA uniformise tout : les mêmes idées, les mêmes mots, la même pensée tiède.
""",
    "formation": """
0|Nous n'avons eu aucune formation sérieuse sur le sujet, juste un webinaire d'une heure.
0|Il faut une vraie formation, sur le temps de travail, pas des modules en ligne le mercredi
    après-midi.
0f|Je ne me sens pas formée du tout, j'apprends seule avec des tutos YouTube.
0|Avant de parler d'usage en classe, il faudrait former les enseignants, et pas en deux heures.
02|Les formations du PAF sur l'IA sont prises d'assaut, je n'ai jamais eu de place.
02|Les élèves en savent souvent plus que nous, ce qui est assez déstabilisant.
0|Une formation pratique, par discipline, avec des exemples concrets : voilà ce qui manque.
-|On nous demande d'intégrer l'IA sans nous avoir formés, comme d'habitude.
0|Les formateurs eux-mêmes découvrent le sujet, difficile de faire mieux pour l'instant.
+|J'ai suivi une formation proposée par la DRANE et ça m'a ouvert beaucoup de perspectives.
0|Il faudrait au moins un référent IA par établissement pour accompagner les collègues.
0|Je voudrais comprendre comment ça marche techniquement avant de l'utiliser devant des élèves.
0|Les collègues proches de la retraite sont complètement perdus et rien n'est prévu pour eux.
0|La formation continue est déjà squelettique, je doute qu'on ait quoi que ce soit de sérieux.
01|Dans le premier degré, on n'a même pas de formation sur le numérique de base, alors l'IA...
0m|Je me suis formé seul, sur mon temps libre, comme pour tout le reste.
+|Quelques tutoriels bien faits m'ont suffi pour commencer, ce n'est pas si compliqué.
0|Il faudrait un temps d'échange entre collègues pour partager ce qui marche et ce qui ne marche
    pas.
-|Les outils changent tous les six mois : à peine formés, on sera déjà dépassés.
""",
    "cadre": """
0|Nous avons besoin d'un cadre clair : qu'a-t-on le droit de faire, avec quels outils, et qui
    est responsable ?
02|Une charte d'usage de l'IA, votée en conseil d'administration, serait la moindre des choses.
0|Le ministère doit prendre position clairement au lieu de laisser chaque enseignant se
    débrouiller.
-|Aucune consigne de l'institution, chacun fait ce qu'il veut, c'est le far west.
0|Il faudrait une charte éthique nationale, expliquée aux élèves et aux familles.
0|A-t-on le droit de faire utiliser ChatGPT à des mineurs ? Personne ne sait nous répondre.
0|J'attends des textes officiels qui précisent les usages autorisés en classe et aux examens.
-|Comme d'habitude, l'institution court après les usages avec trois ans de retard.
0|Le règlement intérieur devrait mentionner l'IA, ce qui n'est pas le cas chez nous.
+|Les premières recommandations publiées sur Éduscol vont dans le bon sens, encore faut-il les
    faire connaître.
02|Il faut des règles communes pour les examens, sinon ce sera l'inégalité totale d'un lycée à
    l'autre.
-|On attend de nous qu'on innove sans nous dire dans quel cadre, et au moindre problème ce sera
    de notre faute.
0|L'Éducation nationale doit dire clairement ce qui est permis, pour les élèves comme pour nous.
+2|Dans mon établissement, on a rédigé une charte avec les élèves et ça a permis de poser des
    règles claires.
02|Il faudrait harmoniser les règles au sein de l'équipe pédagogique, sinon les élèves jouent sur
    les différences.
""",
    "donnees": """
-|Mettre les données des élèves dans des outils américains, c'est contraire au RGPD, on le sait
    tous.
0|Il faudrait des outils souverains, hébergés en France, validés par le ministère.
0|Pourquoi ne pas proposer un outil public comme Albert plutôt que de laisser les élèves sur
    ChatGPT ?
-2|Les élèves doivent créer des comptes avec leur adresse personnelle, on ne maîtrise rien.
0|Où vont les données ? Qui les exploite ? Tant qu'on n'a pas de réponse, je m'abstiens.
0|Un modèle européen comme Mistral, intégré à l'ENT, serait déjà plus rassurant.
-|Les géants de la tech se servent de l'école comme terrain de jeu et de collecte de données.
0|Le DPO académique devrait valider les outils avant qu'on nous encourage à les utiliser.
-|On nous interdit WhatsApp avec les familles mais on nous pousserait vers des IA américaines ?
    C'est incohérent.
0f|Je n'entre jamais de nom d'élève dans mes requêtes, mais je ne suis pas sûre que tous les
    collègues fassent attention.
-|Je refuse d'entrer la moindre information sur mes élèves dans ces outils.
0|La CNIL a publié des recommandations, mais qui les a lues en salle des profs ?
+|Avec un outil installé en local, les données ne sortent pas de l'établissement : c'est
    possible et ça marche.
-|Encore une fois, on présente un outil privé comme une solution miracle pour l'école publique.
""",
    "inegalites": """
-|Tous les élèves n'ont pas d'ordinateur à la maison, encore moins un abonnement payant.
-|Ceux qui paient la version payante auront de meilleurs résultats : c'est une inégalité de plus.
-2|Dans mon collège, le wifi ne fonctionne pas dans la moitié des salles, alors l'IA...
-|Les familles favorisées sauront accompagner leurs enfants, les autres seront livrés à
    eux-mêmes.
-1|Dans mon école, on a six tablettes pour 150 élèves et un TBI en panne depuis deux ans.
0|Il faudrait garantir le même accès à tous, sinon on creuse encore l'écart.
+|Pour des élèves sans aide à la maison, un assistant disponible le soir peut être une vraie
    chance.
-|Le fossé entre établissements bien équipés et les autres va encore se creuser.
-2|Au lycée pro, beaucoup de mes élèves n'ont qu'un téléphone avec un forfait limité.
0|En zone rurale, la connexion est tellement mauvaise que la question ne se pose même pas.
-|On parle d'IA alors qu'on n'a même pas de quoi imprimer correctement.
+2|Pour les élèves qui n'osent pas demander de l'aide en cours, c'est une forme de soutien
    scolaire gratuit.
""",
    "role_enseignant": """
-|J'ai peur qu'à terme on nous remplace par des tuteurs virtuels pour faire des économies.
0|L'IA ne remplacera jamais la relation humaine entre un enseignant et ses élèves.
-|On nous prépare des classes de 40 avec une IA pour « individualiser », je vois très bien où ça
    mène.
0|Le métier va changer, il faut l'accepter, mais l'enseignant doit rester maître de sa
    pédagogie.
-|Je crains qu'on nous transforme en simples surveillants d'écrans.
+|Si l'IA prend en charge les tâches répétitives, on aura plus de temps pour l'humain.
0|Un enseignant ne transmet pas seulement des savoirs, il transmet une manière d'être au monde.
-|Avec la crise du recrutement, la tentation de remplacer les profs absents par une IA sera
    énorme.
0|Je ne crois pas au remplacement, mais à une dévalorisation supplémentaire du métier, oui.
+|L'IA est un assistant, pas un collègue : c'est à nous de décider quoi en faire.
-|Le jour où un élève préférera demander à une machine plutôt qu'à son prof, on aura perdu
    quelque chose.
+|Je ne crains pas pour mon métier : l'IA ne sait ni motiver un élève ni tenir une classe.
+|Ça me libère du temps pour ce qui compte vraiment, écouter et accompagner les élèves.
""",
    "environnement": """
-|Le coût énergétique de ces outils est énorme, en contradiction totale avec l'éducation au
    développement durable.
-|On demande aux élèves d'éteindre la lumière en sortant et on les encourage à faire tourner des
    data centers pour une rédaction.
0|Il faudrait au moins informer les élèves de l'empreinte carbone et de la consommation d'eau de
    ces outils.
-2m|Je suis référent développement durable et je ne vois pas comment concilier ça avec nos
    engagements.
0|La sobriété numérique devrait faire partie de la réflexion, on n'en parle jamais.
-|Une requête à une IA consomme bien plus qu'une recherche classique, et personne ne s'en
    soucie.
0|Utiliser l'IA quand c'est vraiment utile, pas pour tout et n'importe quoi, ne serait-ce que
    pour la planète.
-|L'impact écologique est l'angle mort de tout ce débat.
""",
    "evaluation": """
0|Il va falloir repenser complètement l'évaluation : plus d'oral, plus de travail en classe.
02|Les devoirs maison notés n'ont plus aucun sens, il faut évaluer autrement.
0|L'évaluation devrait porter davantage sur la démarche que sur le produit fini.
-2|Le grand oral et les épreuves écrites vont devoir évoluer, sinon le bac perdra toute valeur.
+|C'est peut-être l'occasion de sortir de l'évaluation-sanction et de valoriser le raisonnement.
0|On pourrait évaluer la capacité à critiquer et améliorer une production de l'IA, c'est une
    vraie compétence.
-2|Avec le contrôle continu, la triche à l'IA fausse complètement les notes.
+2|J'ai commencé à évaluer les brouillons et les étapes de travail, et c'est finalement plus
    intéressant.
02|Corriger des copies avec une IA ? Pourquoi pas pour un premier tri, mais la note doit rester
    humaine.
-2|Des collègues font corriger leurs copies par ChatGPT, je trouve ça scandaleux.
+2|L'IA m'aide à rédiger des commentaires personnalisés sur les copies, et les élèves les lisent
    davantage.
+2|Je fais rédiger les élèves en classe, puis ils améliorent leur texte avec l'IA en justifiant
    chaque modification : ils progressent vraiment.
-2|Les copies se ressemblent toutes, avec les mêmes tournures et les mêmes plans en trois parties.
""",
    "culture_ia": """
0|Il faut apprendre aux élèves comment fonctionne une IA, ses limites et ses biais : c'est une
    question de citoyenneté.
+|L'IA doit devenir un objet d'enseignement, au même titre que l'éducation aux médias.
0|Apprendre aux élèves à formuler de bonnes requêtes et à vérifier les réponses me semble
    indispensable.
+2|Autant leur apprendre à bien s'en servir, puisqu'ils s'en servent de toute façon.
02|L'EMI devrait intégrer un volet IA dès la sixième.
+2|En SNT, on a fait une séance sur les biais des IA génératives, les élèves étaient passionnés.
0|Interdire ne sert à rien, il faut éduquer.
+|Les élèves doivent comprendre que ce n'est pas magique : ce sont des statistiques, pas une
    intelligence.
0|Pix pourrait intégrer des compétences sur l'IA, ce serait cohérent.
+|Comprendre l'IA, c'est comprendre le monde dans lequel nos élèves vont travailler.
+2|Mes élèves de première ont adoré comparer une traduction automatique avec la leur, ça a
    ouvert un vrai débat sur la langue.
+|Travailler avec les élèves sur la façon dont l'IA fabrique ses réponses, c'est passionnant et
    très formateur.
0|Le plus important est d'apprendre aux élèves quand ne pas l'utiliser.
""",
    "inclusion": """
+|Pour mes élèves dys, la synthèse vocale et la reformulation par l'IA sont une aide précieuse.
+|Un élève allophone de ma classe utilise la traduction instantanée et il participe enfin.
+|L'IA peut adapter les supports aux élèves à besoins particuliers beaucoup plus vite que nous.
0|Pour les élèves en situation de handicap, ça pourrait compléter le travail des AESH, pas le
    remplacer.
+1|J'ai transformé des textes en version FALC pour un élève d'ULIS, le gain de temps est énorme.
-|On va nous dire qu'une IA suffit et supprimer des postes d'AESH, je n'ai aucun doute
    là-dessus.
+|Pour les élèves dyspraxiques, la dictée vocale change tout.
0|L'inclusion est un argument fort, à condition que les outils soient accessibles et gratuits.
+|Adapter un document en gros caractères, avec des phrases courtes et un lexique, en deux
    minutes : c'est là que l'IA est vraiment utile.
+|Pour les élèves qui ont du mal à démarrer un écrit, obtenir une première idée débloque vraiment
    la situation.
+|Les familles qui ne parlent pas français peuvent enfin comprendre nos messages grâce à la
    traduction.
""",
    "fiabilite": """
-|ChatGPT invente des références et des dates avec un aplomb incroyable.
-|J'ai testé des questions d'histoire niveau collège : il y avait des erreurs grossières.
-|En maths, les erreurs de calcul sont fréquentes et les élèves ne les voient pas.
0|Les réponses sont justes à 80 %, le problème c'est qu'on ne sait pas lesquelles sont fausses.
-|Une IA qui se trompe avec assurance, c'est le pire outil possible pour des élèves.
0|Il faut toujours vérifier, et vérifier prend du temps.
-2|Un élève m'a cité un poème de Victor Hugo qui n'existe pas, inventé par l'IA.
0|Les hallucinations sont moins fréquentes qu'avant, mais elles existent encore.
-|Les biais sont réels : stéréotypes de genre, vision très anglo-saxonne de l'histoire.
+|Sur des tâches simples, reformuler ou résumer, c'est quand même très fiable.
+|Les outils ont fait d'énormes progrès en deux ans, les réponses sont de plus en plus
    pertinentes.
""",
    "premier_degre": """
-1|En primaire, les élèves sont bien trop jeunes, ils doivent d'abord apprendre à lire, écrire
    et compter.
-1|Mes élèves de CP ont besoin de manipuler, de toucher, pas d'un écran de plus.
01|À l'école élémentaire, l'IA doit rester un outil pour l'enseignant, pas pour les enfants.
-1|Les enfants passent déjà trop de temps devant les écrans à la maison, l'école doit rester un
    refuge.
-1|Les conditions d'utilisation de ces outils interdisent l'usage avant 13 ans, donc la question
    ne se pose pas en élémentaire.
01|En cycle 3, on pourrait expliquer ce que c'est, sans utilisation directe par les élèves.
-1|En maternelle, c'est hors sujet : nos élèves apprennent à tenir un crayon.
+1|Avec mes CM2, j'ai montré comment une IA peut se tromper, c'était une super séance d'esprit
    critique.
01|Les parents nous demandent déjà ce qu'on en pense, et on n'a rien à leur répondre.
-1|Des CE1 parlent déjà à l'assistant vocal du téléphone de leurs parents, c'est inquiétant.
+1|Pour préparer les APC avec des exercices vraiment ciblés, c'est très pratique.
+1|En cycle 3, un travail sur la façon dont la machine devine le mot suivant passionne les élèves.
-1|Je ne vois pas ce qu'un enfant de 8 ans pourrait gagner à discuter avec une machine.
""",
    "pedagogie": """
+|C'est une révolution pédagogique comparable à l'arrivée d'internet, il faut s'en saisir.
+|Les élèves peuvent avoir un tuteur qui répond à leurs questions à toute heure, c'est
    formidable.
+2|J'ai fait débattre mes élèves avec une IA qui jouait un personnage historique, ils étaient
    captivés.
+|On peut enfin individualiser vraiment les parcours, ce qu'on rêve de faire depuis des années.
+2|Les élèves timides osent poser à l'IA des questions qu'ils n'oseraient pas poser en classe.
+2|En langues, faire converser les élèves à l'oral avec un chatbot, c'est très motivant.
+2|Ça redonne envie à certains élèves décrocheurs, parce que c'est interactif.
+|Enfin un outil qui peut s'adapter au rythme de chacun !
0|Il y a un potentiel énorme, encore faut-il nous laisser le temps d'expérimenter.
+|Freinet aurait adoré : les élèves produisent, questionnent, corrigent.
+2|Avec mes terminales, on a utilisé l'IA pour préparer le grand oral en générant des
    objections, très efficace.
+|J'y vois un moyen de rendre les élèves plus actifs, à condition de bien concevoir les activités.
+2|En classe inversée, l'IA aide les élèves à revoir les notions avant le cours, et on gagne du
    temps pour la pratique.
+|Les élèves peuvent s'entraîner autant qu'ils veulent avec une correction immédiate, ce que je
    ne peux pas leur offrir face à trente élèves.
+|Pour la remédiation, avoir des exercices ciblés générés à la demande, c'est un vrai plus.
+2|Bien encadrée, l'IA peut rendre les élèves plus autonomes dans leurs révisions.
""",
    "ecrans_relation": """
-|Encore plus d'écrans, alors qu'on lutte déjà contre les téléphones en classe.
-|Après les tablettes, voilà l'IA : on nous refait le coup du numérique miracle.
0|L'école devrait rester un lieu où l'on apprend à réfléchir avec les autres, pas seul face à
    une machine.
-2|On a interdit les portables au collège et on voudrait mettre des IA dans les mains des
    élèves ? Il faut choisir.
-|Le temps passé à parler avec une machine, c'est du temps en moins pour parler avec des humains.
0|L'essentiel reste la relation, la parole, le groupe classe.
-|Chaque nouvelle mode numérique est présentée comme une révolution, et dix ans après on range
    le matériel au placard.
""",
}

# How often a theme is picked for a composed answer: the IGÉSR survey found training,
# cheating, critical thinking and lesson preparation far ahead of the environment or
# inclusion.
THEME_WEIGHTS = {
    "formation": 14,
    "triche": 12,
    "esprit_critique": 12,
    "preparation": 12,
    "cadre": 9,
    "role_enseignant": 7,
    "donnees": 6,
    "inegalites": 6,
    "fiabilite": 6,
    "culture_ia": 6,
    "administratif": 6,
    "evaluation": 5,
    "pedagogie": 5,
    "environnement": 4,
    "inclusion": 4,
    "ecrans_relation": 4,
    "premier_degre": 8,  # only 1er degré answers can draw it
}

# A sentence naming a discipline or a class level pins the writer down: one per answer.
SPECIFIC = re.compile(
    r"\b(SVT|SNT|SES|anglais|philo|maths|histoire|langues|lycée pro|maternelle|CP|CE1|CM2|ULIS|"
    r"secondes?|troisièmes|terminales|collège|cycle 3)\b"
)

OPENERS = {
    "+": [
        "Très favorable.",
        "Franchement, c'est une chance.",
        "Avis très positif.",
        "Enfin un sujet d'avenir !",
        "Je suis pour, clairement.",
        "Je l'utilise déjà beaucoup.",
    ],
    "f": [
        "J'y suis plutôt favorable.",
        "Expérience plutôt positive jusqu'ici.",
        "Globalement positif.",
        "Plutôt pour.",
        "Je l'utilise un peu, avec prudence.",
        "Un outil intéressant.",
    ],
    "~": [
        "Avis partagé.",
        "Question complexe.",
        "Vaste sujet.",
        "C'est à double tranchant.",
        "Il y a du bon et du moins bon.",
        "Difficile de répondre simplement.",
        "Tout dépend de l'usage qu'on en fait.",
        "Sentiments mitigés.",
    ],
    "i": [
        "Honnêtement, ça m'effraie.",
        "Beaucoup d'inquiétudes.",
        "Grande méfiance.",
        "Pas convaincant pour l'instant.",
        "J'ai de sérieux doutes.",
        "Je reste sceptique.",
    ],
    "-": [
        "Je suis contre.",
        "Très mauvaise idée.",
        "Pas convaincant du tout.",
        "Franchement, non.",
        "Opposition totale.",
        "Non, non et non.",
    ],
    "r": [
        "De toute façon, c'est déjà là.",
        "On n'a pas vraiment le choix.",
        "Encore une chose qu'on va subir.",
        "Le train est déjà parti.",
        "Que dire ?",
        "Le mouvement est lancé, on ne l'arrêtera pas.",
    ],
}
CLOSERS = {
    "+": [
        "À développer !",
        "Hâte de voir la suite.",
        "Allons-y !",
        "C'est une chance pour l'école.",
    ],
    "f": [
        "Il faut y aller, mais accompagnés.",
        "Merci pour cette consultation.",
        "À condition d'être bien accompagnés.",
        "Avec prudence, mais il faut y aller.",
    ],
    "~": [
        "À suivre.",
        "Prudence quand même.",
        "Il faut avancer prudemment.",
        "Merci de nous demander notre avis.",
        "Voilà mon avis.",
        "On verra à l'usage.",
    ],
    "i": [
        "Prudence, prudence.",
        "Très inquiétant.",
        "Je reste sur mes gardes.",
        "Voilà mes craintes.",
    ],
    "-": [
        "Bref, je n'y crois pas.",
        "Ce n'est pas la priorité.",
        "Voilà.",
        "Et ce n'est qu'un début.",
    ],
    "r": ["On fera avec.", "Comme d'habitude.", "Enfin bon..."],
}
CONTRAST = [
    "Mais",
    "En revanche,",
    "Par contre,",
    "Cela dit,",
    "Pourtant,",
    "D'un autre côté,",
    "Néanmoins,",
]
ADDITION = ["Et", "De plus,", "Par ailleurs,", "Surtout,", "Aussi,", "En plus,"]
# Stance sequences per tone; repeated entries weigh more.
PLANS = {
    ENTH: ["++", "+++", "++0", "+0+", "+++", "++0+", "+"],
    FAV: ["+0", "+-0", "++0", "+0+", "0++", "+0-", "++0+"],
    NUA: ["+-", "-+", "+-0", "0+-", "-+0", "0-+", "+-+0", "-0+", "0+-0"],
    INQ: ["-0", "--0", "0-", "-0-", "-0-", "-0-0", "-"],
    HOS: ["--", "---", "-0-", "--", "---", "--0-", "-"],
    RES: ["0-", "-0", "0-0", "-"],
}
# Themes a writer plausibly moves between within one answer.
RELATED = {
    "preparation": ["administratif", "inclusion", "pedagogie", "fiabilite", "formation"],
    "administratif": ["preparation", "role_enseignant", "donnees"],
    "triche": ["evaluation", "esprit_critique", "fiabilite", "cadre"],
    "esprit_critique": ["triche", "culture_ia", "fiabilite", "ecrans_relation"],
    "formation": ["cadre", "preparation", "culture_ia", "donnees"],
    "cadre": ["formation", "donnees", "triche", "evaluation"],
    "donnees": ["cadre", "inegalites", "formation"],
    "inegalites": ["donnees", "ecrans_relation", "inclusion", "premier_degre"],
    "role_enseignant": ["ecrans_relation", "administratif", "inclusion"],
    "environnement": ["ecrans_relation", "inegalites", "culture_ia"],
    "evaluation": ["triche", "esprit_critique", "pedagogie"],
    "culture_ia": ["esprit_critique", "fiabilite", "formation", "pedagogie"],
    "inclusion": ["preparation", "pedagogie", "inegalites", "role_enseignant"],
    "fiabilite": ["esprit_critique", "culture_ia", "triche"],
    "premier_degre": ["ecrans_relation", "preparation", "formation", "inegalites"],
    "pedagogie": ["preparation", "inclusion", "culture_ia", "evaluation"],
    "ecrans_relation": ["role_enseignant", "premier_degre", "esprit_critique", "environnement"],
}
OPENER_GROUP = {ENTH: "+", FAV: "f", NUA: "~", INQ: "i", HOS: "-", RES: "r"}
# Framings that fit any sentence written without a first person.
OPINION = [
    "Personnellement, ",
    "À mon avis, ",
    "Selon moi, ",
    "Pour moi, ",
    "Honnêtement, ",
    "Je pense que ",
    "Je trouve que ",
]
SUBJECT_START = (
    "L'",
    "La ",
    "Le ",
    "Les ",
    "Il ",
    "Tout ",
    "Un ",
    "Une ",
    "Ce ",
    "C'",
    "Ça ",
    "Interdire",
    "Écrire",
    "Utiliser",
    "Mettre",
    "Adapter",
)
FIRST_PERSON = re.compile(r"(?i)(^|\W)(je|j'|me|m'|moi|mes|ma|mon|nous|nos|notre|on)\b")
COMPOSED_TONES = {ENTH: 14, FAV: 24, NUA: 27, INQ: 18, HOS: 12, RES: 5}

# --------------------------------------------------------------------------------------------
# Whole answers written by hand. Short ones: <tone>|<degree>|<text>.
# --------------------------------------------------------------------------------------------
SHORT = """
F||Un outil formidable si on apprend à s'en servir.
F||Très utile pour préparer mes cours.
E||Gain de temps énorme pour la préparation !
E||C'est l'avenir, autant s'y mettre maintenant.
F||Indispensable aujourd'hui, il faut vivre avec son temps.
F||Une aide précieuse pour différencier.
F||Outil intéressant, à condition d'être formé.
E||J'utilise déjà Mistral pour mes fiches d'exercices, très satisfaisant.
E||Super pour les élèves dys !
F||Plutôt positif, ça m'aide au quotidien.
E||Une opportunité à saisir pour l'école.
F||Un bon assistant, pas un remplaçant.
E||Ça m'a réconcilié avec la préparation des cours.
E||Vivement qu'on ait des outils institutionnels !
F|2|Très bien pour les langues vivantes, surtout à l'oral.
E||Top 👍
N||Utile pour les profs, risqué pour les élèves.
N||Oui pour préparer, non pour évaluer.
N||Ça dépend complètement de l'usage.
N||Ni miracle ni catastrophe. Un outil de plus.
N||Intéressant mais il faut un cadre.
N||Pourquoi pas, avec une vraie formation.
N||Outil puissant, à manier avec précaution.
N||À encadrer sérieusement.
N||Bien pour nous, pas pour les élèves avant le lycée.
N||Prometteur mais encore trop peu fiable.
N||Le meilleur comme le pire.
N||C'est comme la calculatrice en son temps : il faudra apprendre à faire avec.
N||Il faut l'apprivoiser plutôt que la subir.
N||Intéressant. Mais qui paie ?
N||Pour certains usages oui, pour d'autres clairement non.
H||Une catastrophe pour l'apprentissage de l'écriture.
I||Danger pour l'esprit critique des élèves.
H||Je suis contre, les élèves ne réfléchissent déjà plus assez.
H|2|Triche généralisée. Point.
H||Aucun intérêt pédagogique.
H||Une fausse bonne idée de plus.
I||Trop de risques pour trop peu de bénéfices.
H||Je n'en veux pas dans ma classe.
H||Les élèves doivent apprendre à penser par eux-mêmes, pas à interroger une machine.
I||Une menace pour notre métier.
H||L'école doit rester un lieu sans écrans.
H||Non merci.
I|2|C'est la fin des devoirs maison.
I||Très inquiétant pour les plus jeunes.
I||Les données des élèves n'ont rien à faire chez OpenAI.
I||Ça fait peur 😬
N||Il faut d'abord nous former.
N||Besoin d'un cadre clair et de formation.
N||Je ne l'utilise pas, difficile de me prononcer.
N||Pas encore d'avis, je découvre.
N||Je n'y connais rien, mais ça m'intéresse.
N||Il faudrait des outils souverains et gratuits.
R||Ça arrive, qu'on le veuille ou non.
H|1|En maternelle, non.
I|1|Pas avant le collège.
H|1|Trop tôt pour des enfants de 6 ans.
I|1|À l'école primaire, aucun intérêt pour les élèves eux-mêmes.
R||De toute façon on ne nous demandera pas notre avis.
R||On fera avec, comme pour le reste.
R||Les élèves l'utilisent déjà, le débat est dépassé.
R||Encore une chose qu'on va nous imposer sans moyens.
X||Génial, encore un truc à gérer en plus du reste.
X|2|Super, une IA pour corriger les copies écrites par l'IA.
X||Et pourquoi pas une IA pour répondre à ce questionnaire ?
X||Si elle peut aller en réunion à ma place, je suis pour.
I|2|bof bof... les eleves trichent deja assez comme ca
N||c bien pr les profs mais pas pr les eleves
N||jsp trop, jamais utilisé
N||ca peut aider mais faut faire gaffe
F||tres utile pr preparer mes cours perso
H||pas du tout convaincu
N||interessant mais on a pas le temps de se former
H||NON À L'IA À L'ÉCOLE !!!
H||ARRÊTEZ AVEC LE NUMÉRIQUE, DONNEZ-NOUS DES MOYENS HUMAINS.
N||FORMATION D'ABORD !
F||ChatGPT pour les mails aux parents, un bonheur.
I||Inquiète pour l'avenir de nos élèves.
N||Utile mais énergivore.
I||Trop de questions sans réponse sur les données personnelles.
I||La CNIL devrait se prononcer avant qu'on généralise quoi que ce soit.
E|1|Je l'utilise pour mes préparations de CP, c'est génial.
I||On manque de recul, prudence.
H||Encore une façon de nous déposséder de notre métier.
F||Je suis pour, si c'est encadré.
H||Les élèves n'apprennent plus rien, ils recopient.
N||Il faut un outil validé par l'institution, pas ChatGPT.
F|2|En SES, très pratique pour actualiser les données et les exemples.
N||Je me pose encore beaucoup de questions.
"""

TRIVIAL = [
    ".",
    "RAS",
    "ras",
    "Sans avis",
    "sans avis",
    "Je ne sais pas",
    "Je ne sais pas.",
    "-",
    "Rien à ajouter.",
    "?",
]


@dataclass
class Spec:
    """One answer before it gets a respondent: text, tone and what the writer must be."""

    text: str
    tone: str
    kind: str
    degre: str | None = None
    fonction: str | None = None
    academie: str | None = None
    pii: tuple[tuple[str, str], ...] = ()


def _prose(text: str) -> str:
    """Collapse the source wrapping of a hand-written answer; blank lines become a newline."""
    paragraphs = re.split(r"\n\s*\n", text.strip())
    return "\n".join(" ".join(p.split()) for p in paragraphs)


def _word_processor(text: str) -> str:
    """Typographic apostrophes and non-breaking spaces, as pasted from a word processor."""
    text = text.replace("'", "\u2019")
    return re.sub(r" ([:;!?»])", "\u00a0\\1", text).replace("« ", "«\u00a0")


# Answers naming people, schools or giving contact data. All invented; the phone numbers are
# in ranges that, as far as we know, ARCEP reserves for fiction (03 53 01, 04 65 71, 06 39 98).
PII_ANSWERS = [
    Spec(
        "Dans mon établissement, le collège Jean Moulin de Vénissieux, ma collègue Mme Martine "
        "Dupuis a monté un atelier sur l'IA avec les 4e et c'est impressionnant : les élèves "
        "comparent les réponses de ChatGPT et de Mistral et traquent les erreurs. Ce genre "
        "d'initiative devrait être valorisé.",
        FAV,
        "pii",
        D2,
        CERT,
        "Lyon",
        (("SCHOOL", "collège Jean Moulin de Vénissieux"), ("PERSON", "Mme Martine Dupuis")),
    ),
    Spec(
        "Au lycée Victor Hugo de Besançon, nous avons rédigé une charte IA avec les élèves et les "
        "parents élus. Je peux la partager volontiers : claire.bontemps@ac-besancon.fr",
        FAV,
        "pii",
        D2,
        None,
        "Besançon",
        (("SCHOOL", "lycée Victor Hugo de Besançon"), ("EMAIL", "claire.bontemps@ac-besancon.fr")),
    ),
    Spec(
        "Directrice de l'école élémentaire Les Tilleuls (UAI 0691234A), je n'ai reçu aucune "
        "information de la circonscription sur l'IA. Vous pouvez me joindre au 04.65.71.23.80 si "
        "vous souhaitez un retour de terrain.",
        NUA,
        "pii",
        D1,
        DIR,
        "Lyon",
        (
            ("SCHOOL", "école élémentaire Les Tilleuls"),
            ("UAI", "0691234A"),
            ("PHONE", "04.65.71.23.80"),
        ),
    ),
    Spec(
        "L'élève Kevin L. de ma classe de 3e m'a rendu une rédaction qui commençait par « Bien "
        "sûr ! Voici une rédaction sur le thème demandé ». Quand je lui en ai parlé, il ne voyait "
        "pas le problème. Ses parents non plus.",
        INQ,
        "pii",
        D2,
        None,
        "Créteil",
        (("PERSON", "Kevin L."),),
    ),
    Spec(
        "Je veux bien participer à un groupe de travail académique sur le sujet. Thomas Garnier, "
        "professeur de SES, 06 39 98 41 27.",
        FAV,
        "pii",
        D2,
        CERT,
        "Versailles",
        (("PERSON", "Thomas Garnier"), ("PHONE", "06 39 98 41 27")),
    ),
    Spec(
        "Notre proviseur, M. Jean-Pierre Lemaire, refuse toute discussion sur l'IA en conseil "
        "pédagogique. Résultat : chacun fait dans son coin et les élèves reçoivent des messages "
        "contradictoires d'une classe à l'autre.",
        RES,
        "pii",
        D2,
        None,
        "Lille",
        (("PERSON", "M. Jean-Pierre Lemaire"),),
    ),
    Spec(
        "J'ai créé des ressources sur l'IA en histoire-géographie (analyse de sources générées, "
        "repérage d'anachronismes), disponibles sur demande : sandrine.morel@ac-aix-marseille.fr "
        "ou +33 6 39 98 12 55.",
        ENTH,
        "pii",
        D2,
        CERT,
        "Aix-Marseille",
        (("EMAIL", "sandrine.morel@ac-aix-marseille.fr"), ("PHONE", "+33 6 39 98 12 55")),
    ),
    Spec(
        "Avec ma collègue de CE2, Aurélie Fontaine, on a testé un outil d'aide à la lecture à "
        "l'école Jules Ferry de Rezé (0442817K). Les petits lecteurs ont progressé, mais on a dû "
        "tout financer avec la coopérative scolaire.",
        FAV,
        "pii",
        D1,
        PE,
        "Nantes",
        (
            ("PERSON", "Aurélie Fontaine"),
            ("SCHOOL", "école Jules Ferry de Rezé"),
            ("UAI", "0442817K"),
        ),
    ),
    Spec(
        "Je suis CPE au lycée Jean Jaurès de Castres. Depuis janvier, nous avons eu trois "
        "situations de harcèlement avec des images truquées par IA ; Yanis B. et Inès M., deux "
        "élèves de première, en ont été victimes. L'IA, ce n'est pas seulement la triche, c'est "
        "aussi ça.",
        INQ,
        "pii",
        D2,
        CPE,
        "Toulouse",
        (("SCHOOL", "lycée Jean Jaurès de Castres"), ("PERSON", "Yanis B."), ("PERSON", "Inès M.")),
    ),
    Spec(
        "Merci de transmettre à M. Le Goff, IEN de la circonscription de Vannes, que nous "
        "attendons toujours les tablettes promises l'an dernier. Mon portable si besoin : "
        "06 39 98 76 03.",
        RES,
        "pii",
        D1,
        PE,
        "Rennes",
        (("PERSON", "M. Le Goff"), ("PHONE", "06 39 98 76 03")),
    ),
    Spec(
        "Ma fille Léa Martinez est en 5e dans le collège où j'enseigne et elle fait tous ses "
        "devoirs avec l'IA. Comme mère et comme prof, je me sens démunie : je ne sais pas où "
        "mettre la limite.",
        INQ,
        "pii",
        D2,
        None,
        "Montpellier",
        (("PERSON", "Léa Martinez"),),
    ),
    Spec(
        "Pour le projet eTwinning sur l'IA, contact : nicolas.duval@ac-normandie.fr (collège Guy "
        "de Maupassant, Fécamp). Nous cherchons des établissements partenaires !",
        ENTH,
        "pii",
        D2,
        None,
        "Normandie",
        (
            ("EMAIL", "nicolas.duval@ac-normandie.fr"),
            ("SCHOOL", "collège Guy de Maupassant, Fécamp"),
        ),
    ),
    Spec(
        "Mon collègue de technologie, Frédéric Schmitt, a fait bloquer ChatGPT sur le réseau du "
        "lycée. Résultat : les élèves passent par la 4G de leur téléphone. Les interdictions ne "
        "servent à rien, il faut éduquer.",
        NUA,
        "pii",
        D2,
        None,
        "Strasbourg",
        (("PERSON", "Frédéric Schmitt"),),
    ),
    Spec(
        "Je travaille avec l'IA depuis deux ans en première STMG et je peux montrer des séquences "
        "complètes si l'inspection veut un retour d'expérience. Mon numéro : 0639985214.",
        ENTH,
        "pii",
        D2,
        CERT,
        "Grenoble",
        (("PHONE", "0639985214"),),
    ),
    Spec(
        "Dans ma classe de CM1, l'élève Mohamed K. a une dysgraphie sévère et la dictée vocale lui "
        "permet enfin d'écrire des textes. Son AESH, Mme Nathalie Roux, est formidable mais elle "
        "n'est là que 9 heures par semaine.",
        FAV,
        "pii",
        D1,
        PE,
        "Paris",
        (("PERSON", "Mohamed K."), ("PERSON", "Mme Nathalie Roux")),
    ),
    Spec(
        "Si vous organisez des formations dans l'Yonne, je veux bien aider : "
        "marie-laure.petit@ac-dijon.fr / 03 53 01 47 22.",
        FAV,
        "pii",
        None,
        None,
        "Dijon",
        (("EMAIL", "marie-laure.petit@ac-dijon.fr"), ("PHONE", "03 53 01 47 22")),
    ),
    Spec(
        "J'enseigne au collège Lucie Aubrac, 14 avenue de la République, 63000 Clermont-Ferrand, "
        "où nous n'avons toujours pas de wifi dans les salles. Parler d'IA dans ces conditions me "
        "paraît hors-sol.",
        HOS,
        "pii",
        D2,
        CERT,
        "Clermont-Ferrand",
        (
            ("SCHOOL", "collège Lucie Aubrac"),
            ("ADDRESS", "14 avenue de la République, 63000 Clermont-Ferrand"),
        ),
    ),
]

# Names of tools, institutions, laws and historical figures: a pseudonymiser must leave them.
DECOYS = [
    "ChatGPT",
    "Mistral",
    "Le Chat",
    "Pronote",
    "ENT",
    "Éducation nationale",
    "Madame la ministre",
    "Jules Ferry",
    "Albert",
    "Victor Hugo",
    "Montaigne",
    "Freinet",
    "Condorcet",
    "Claude",
    "Gemini",
    "Copilot",
    "Canopé",
    "Éduscol",
    "CNIL",
    "Pix",
    "MIA Seconde",
]

SPECIAL = [
    # References that are not personal data.
    Spec(
        "Madame la ministre, l'école de la loi Jules Ferry est gratuite, laïque et obligatoire ; "
        "elle doit aussi rester indépendante des géants du numérique. Pas d'IA privée à l'école "
        "publique.",
        HOS,
        "piege",
    ),
    Spec(
        "L'Éducation nationale devrait négocier avec Mistral un Le Chat éducatif intégré à l'ENT, "
        "plutôt que de laisser Google et Microsoft s'installer dans les classes.",
        NUA,
        "piege",
    ),
    Spec(
        "Sur Pronote, certains parents nous envoient déjà des messages manifestement rédigés par "
        "ChatGPT, très longs et très polis. Ça fait sourire, mais ça montre que tout le monde "
        "s'y est mis.",
        NUA,
        "piege",
    ),
    Spec(
        "Copilot est arrivé sur les postes de la salle des profs avec une mise à jour de Windows, "
        "sans que personne ne nous prévienne. Voilà comment l'IA entre à l'école : par la petite "
        "porte.",
        RES,
        "piege",
    ),
    Spec(
        "Albert, l'IA de l'État, existe déjà pour les administrations : pourquoi pas une version "
        "pour les enseignants ? Ce serait plus rassurant que ChatGPT pour les données.",
        FAV,
        "piege",
    ),
    Spec(
        "On nous a présenté MIA Seconde comme la solution pour les groupes de besoin. Mes élèves "
        "s'y connectent une fois et n'y reviennent jamais.",
        INQ,
        "piege",
        D2,
    ),
    Spec(
        "Condorcet disait que l'instruction doit rendre la raison populaire. Une IA qui pense à "
        "la place des élèves, c'est exactement l'inverse.",
        HOS,
        "piege",
    ),
    Spec(
        "Les ressources de Canopé sur l'IA sont bien faites, mais personne n'a le temps de les "
        "consulter. Il faudrait des créneaux dédiés dans nos emplois du temps.",
        NUA,
        "piege",
    ),
    Spec(
        "Gemini, Claude, ChatGPT, Le Chat... mes élèves les connaissent tous, moi je découvre. "
        "Il est urgent de nous former.",
        NUA,
        "piege",
        D2,
    ),
    # Irony.
    Spec(
        "Excellente idée ! Après les tablettes qui dorment dans les placards et les TBI sans "
        "stylet, une IA sur des ordinateurs qui mettent dix minutes à démarrer. On a hâte.",
        IRO,
        "ironie",
    ),
    Spec(
        "Je propose qu'une IA remplisse aussi les livrets scolaires, les projets d'établissement "
        "et les enquêtes ministérielles comme celle-ci. Tout le monde gagnera du temps.",
        IRO,
        "ironie",
    ),
    Spec(
        "Formidable : les élèves font leurs devoirs avec ChatGPT, je les corrige avec ChatGPT, et "
        "les parents les signent avec ChatGPT. Plus besoin de nous, en somme.",
        IRO,
        "ironie",
        D2,
    ),
    Spec(
        "Si l'IA peut trouver un remplaçant en physique-chimie pour ma classe de 4e, je suis "
        "preneuse.",
        IRO,
        "ironie",
        D2,
    ),
    Spec(
        "L'intelligence artificielle, très bien. Et l'intelligence naturelle, on la finance "
        "quand ?",
        IRO,
        "ironie",
    ),
    Spec(
        "Bien sûr, l'IA va sauver l'école. Comme le plan Informatique pour tous en 1985, les "
        "tablettes en 2015 et les ENT depuis vingt ans.",
        IRO,
        "ironie",
    ),
    Spec(
        "J'ai demandé à ChatGPT de répondre à ce questionnaire pour moi. Il trouve que c'est une "
        "opportunité formidable pour l'école. Moi, beaucoup moins.",
        IRO,
        "ironie",
    ),
    # Off-topic.
    Spec(
        "Avant de parler d'IA, parlons des salaires : on est parmi les enseignants les moins bien "
        "payés d'Europe de l'Ouest à niveau d'études égal.",
        HS,
        "hors_sujet",
    ),
    Spec(
        "28 élèves en CP hors éducation prioritaire, voilà le vrai problème. Pas l'intelligence "
        "artificielle.",
        HS,
        "hors_sujet",
        D1,
    ),
    Spec(
        "Je profite de ce questionnaire pour signaler que les absences ne sont toujours pas "
        "remplacées dans mon collège : trois semaines sans prof de maths pour une classe de 3e, "
        "à quelques mois du brevet.",
        HS,
        "hors_sujet",
        D2,
    ),
    Spec(
        "Le vrai sujet, c'est le point d'indice gelé pendant des années et la perte de pouvoir "
        "d'achat. Pour l'IA, on verra après.",
        HS,
        "hors_sujet",
    ),
    Spec(
        "Les bâtiments tombent en ruine, il pleut dans ma salle depuis novembre. L'IA, "
        "franchement...",
        HS,
        "hors_sujet",
    ),
    Spec(
        "Quand aura-t-on des toilettes correctes pour les élèves ? Ça, c'est une vraie question.",
        HS,
        "hors_sujet",
    ),
    Spec(
        "Encore un questionnaire. On en reçoit trois par mois et on n'a jamais aucun retour.",
        HS,
        "hors_sujet",
    ),
    Spec(
        "Madame la ministre, avant l'IA, il faudrait revenir sur les groupes de niveau, qui "
        "désorganisent complètement nos collèges.",
        HS,
        "hors_sujet",
        D2,
    ),
    Spec(
        "Je voudrais surtout qu'on parle de la charge de travail des directeurs d'école, sans "
        "décharge dans les petites écoles.",
        HS,
        "hors_sujet",
        D1,
        DIR,
    ),
    Spec(
        "Hors sujet, mais : les rendez-vous de carrière sont une vaste blague et on n'est jamais "
        "accompagnés. L'IA ne changera rien à ça.",
        HS,
        "hors_sujet",
    ),
    Spec(
        "pourquoi envoyer ce questionnaire en pleine période de conseils de classe ??",
        HS,
        "hors_sujet",
        D2,
    ),
    # Lists typed with dashes.
    Spec(
        "- gain de temps pour les préparations\n- risque de triche\n- besoin de formation\n"
        "- attention aux données des élèves",
        NUA,
        "liste",
    ),
    Spec(
        "Points positifs :\n- différenciation\n- aide aux élèves dys\nPoints négatifs :\n"
        "- triche\n- dépendance à l'outil\n- coût écologique",
        NUA,
        "liste",
    ),
    Spec(
        "- outil utile pour l'enseignant\n- pas pour les élèves du primaire\n"
        "- formation indispensable",
        NUA,
        "liste",
        D1,
    ),
    Spec(
        "Trois craintes :\n- la fin de l'effort\n- les données personnelles\n"
        "- les inégalités entre familles",
        INQ,
        "liste",
    ),
    Spec(
        "Pour :\n- les appréciations et les mails\n- les exercices différenciés\nContre :\n"
        "- l'usage non encadré par les élèves",
        FAV,
        "liste",
        D2,
    ),
    Spec(
        "- triche\n- perte d'autonomie\n- hallucinations\n- aucun cadre\n"
        "Bref, pas pour tout de suite.",
        HOS,
        "liste",
    ),
    Spec(
        "1) former les profs\n2) donner un cadre\n3) fournir des outils sûrs\n"
        "le reste viendra tout seul",
        NUA,
        "liste",
    ),
    # Typed fast, on a phone, or without accents.
    Spec(
        "franchement jsuis pas contre mais faut que l'institution nous donne des outils ki "
        "respectent le rgpd, la on bricole tous avec chatgpt perso",
        NUA,
        "sms",
    ),
    Spec(
        "les eleves l utilisent deja en cachette pour tout, rédac, exos de maths, exposés... on "
        "est largués",
        RES,
        "sms",
        D2,
    ),
    Spec(
        "c'est une bonne chose si c'est bien utilisé mais la plupart des élèves s'en serve pour "
        "tricher et pas pour apprendre",
        INQ,
        "sms",
    ),
    Spec(
        "Je pense que ça peut etre une aide pour les eleves en difficulté mais il faudrait que "
        "les profs soit formés avant. Pour l'instant on y connait rien",
        NUA,
        "sms",
    ),
    Spec(
        'On nous parle d\'"IA de confiance" mais personne ne sait ce que ça veut dire '
        "concrètement. Des exemples, svp !",
        NUA,
        "sms",
    ),
    Spec("pas le temps de m'y interesser avec 6 classes et 180 copies a corriger", RES, "sms", D2),
    Spec("ia = triche. on le voit tous les jours en classe", HOS, "sms", D2),
    Spec(
        "jai testé pour faire des evals differenciees c pas mal du tout mais faut tout verifier, "
        "ya des erreurs",
        FAV,
        "sms",
    ),
]

# Long answers (120-250 words). (tone, degree, fonction, word-processor typography, text)
LONG = [
    (
        NUA,
        D2,
        CERT,
        True,
        """
Je suis professeure de lettres en collège depuis vingt ans et je vois l'IA arriver avec un mélange
de curiosité et d'inquiétude. Curiosité, parce que j'ai testé l'outil pour préparer des
questionnaires de lecture et des exercices de grammaire différenciés, et le résultat est souvent
correct, parfois même bien trouvé. Inquiétude, parce que l'écriture est au cœur de ma discipline
et que je reçois déjà des rédactions faites à la maison qui ne ressemblent en rien à ce que
l'élève produit en classe. Je ne peux plus évaluer honnêtement un devoir maison. J'ai donc tout
rapatrié en classe, sur papier, ce qui me prend un temps considérable. Ce qui me manque, c'est un
cadre : que dit l'institution ? A-t-on le droit de faire utiliser ces outils à des élèves de 12
ans ? Qui est responsable des données ? Et surtout, quand aurons-nous une formation sérieuse, sur
notre temps de travail, avec des collègues de la même discipline ?
""",
    ),
    (
        ENTH,
        D2,
        AGR,
        False,
        """
J'utilise l'IA générative depuis deux ans et je suis convaincu qu'elle peut transformer
positivement nos pratiques, à condition de ne pas la laisser entre les seules mains des élèves.
En physique-chimie, elle m'aide à concevoir des situations-problèmes contextualisées, à produire
trois niveaux d'aide pour une même activité et à rédiger des fiches méthode claires. Le temps
gagné, je le réinvestis auprès des élèves, en classe, en petits groupes. Avec mes premières, nous
analysons aussi des réponses fausses produites par ChatGPT : repérer l'erreur dans un
raisonnement est un excellent exercice, et les élèves comprennent très vite que l'outil n'est pas
infaillible. Je regrette cependant que tout repose sur l'initiative individuelle : pas d'outil
institutionnel, pas de compte pour les élèves, pas de formation au-delà de quelques webinaires.
Un outil souverain intégré à l'ENT, respectueux du RGPD, changerait tout.
Je pense aussi aux collègues en début de carrière : bien utilisé, l'outil peut les aider à
structurer une séquence, à condition qu'un formateur les accompagne pour garder un regard critique.
Sans cela, on verra se multiplier des cours standardisés, tous identiques, ce qui serait l'inverse
de ce que je défends.
""",
    ),
    (
        HOS,
        D1,
        PE,
        False,
        """
Je suis professeur des écoles en CE1 dans une école de quartier prioritaire. Mes élèves arrivent
sans savoir tenir un crayon correctement, certains ne parlent pas français à la maison, et on me
demande ce que je pense de l'intelligence artificielle. Ce dont mes élèves ont besoin, c'est
d'adultes : des enseignants formés, des AESH en nombre suffisant, des orthophonistes, des
psychologues scolaires, des classes moins chargées. Pas d'un écran supplémentaire. Les enfants
passent déjà des heures sur les téléphones de leurs parents, et l'école est souvent le seul
endroit où ils apprennent à se concentrer, à écouter, à parler avec les autres. Je ne dis pas
que l'IA n'a aucun intérêt pour les adultes, mais à 7 ans, non. Et je trouve indécent qu'on
investisse dans ces outils alors que nos écoles manquent de tout, jusqu'au papier pour la
photocopieuse.
Si l'on veut vraiment aider, qu'on commence par remplacer les collègues absents et par financer
des sorties, des livres, du matériel de manipulation. Le reste viendra après, peut-être.
""",
    ),
    (
        NUA,
        D2,
        DOC,
        False,
        """
En tant que professeure documentaliste, je suis aux premières loges : les élèves viennent au CDI
pour « faire leurs recherches » et ouvrent directement ChatGPT. Ils ne comprennent pas pourquoi
je leur demande leurs sources. Pour eux, la réponse de l'IA est une source. C'est tout l'enjeu de
l'éducation aux médias et à l'information : apprendre à questionner d'où vient une information,
qui l'a produite, comment la vérifier. L'IA ne rend pas ce travail obsolète, elle le rend urgent.
J'ai monté une séance avec les 4e où l'on compare une réponse d'IA avec un article de presse et
une page d'encyclopédie, et ça marche très bien. Mais je suis seule pour 700 élèves, avec deux
heures de créneaux en classe par niveau et par an. Si l'institution veut vraiment former les
élèves à l'IA, il faut donner du temps aux professeurs documentalistes et travailler en équipe
avec les disciplines.
""",
    ),
    (
        INQ,
        D2,
        PLP,
        False,
        """
Je suis PLP lettres-histoire dans un lycée professionnel. Nos élèves sont souvent en difficulté
avec l'écrit et l'IA est pour eux une tentation énorme : rapports de stage, dossiers de
chef-d'œuvre, tout y passe. Je les comprends, ils ont enfin un outil qui écrit « bien » à leur
place. Mais du coup ils ne progressent plus, et le jour où ils doivent écrire seuls, en
entreprise ou à l'examen, c'est la catastrophe. En même temps, je vois bien que certains métiers
auxquels on les prépare vont utiliser ces outils, en secrétariat, en commerce, en logistique. Il
faudrait donc leur apprendre à s'en servir intelligemment, mais avec quels moyens ? Nos salles
informatiques datent de dix ans, le réseau sature dès qu'une classe se connecte, et je n'ai reçu
aucune formation. J'ai l'impression qu'on nous laisse gérer seuls un changement énorme.
Je voudrais aussi qu'on pense aux épreuves : si le chef-d'œuvre et les dossiers restent évalués
comme aujourd'hui, la tentation restera énorme, et nous serons les seuls à porter la
responsabilité de la détecter.
""",
    ),
    (
        ENTH,
        D1,
        PE,
        False,
        """
Je coordonne un dispositif ULIS école et l'IA a changé ma façon de préparer. Avant, adapter un
texte pour chacun de mes douze élèves me prenait des soirées entières. Aujourd'hui, je peux
produire en quelques minutes une version simplifiée, une version avec pictogrammes à compléter,
une version audio, une version en gros caractères. Je relis tout, je corrige, parce que l'outil
fait des erreurs, mais le gain est énorme. Pour un de mes élèves autistes, j'ai aussi créé des
scénarios sociaux personnalisés qui l'aident beaucoup. Je n'utilise jamais de prénom ni
d'information personnelle dans les requêtes. Je pense que l'inclusion est l'un des domaines où
l'IA peut vraiment aider, à condition qu'on nous forme et qu'on nous donne des outils sûrs. Et
surtout que personne ne s'imagine que ça remplace une AESH : rien ne remplace un adulte à côté de
l'enfant.
J'ajoute que les outils gratuits que j'utilise changent sans cesse de conditions et de
fonctionnalités, et deviennent parfois payants du jour au lendemain : impossible de construire
quelque chose de stable dans ces conditions.
""",
    ),
    (
        HOS,
        D2,
        AGR,
        True,
        """
L'école a pour mission de former des esprits libres, capables de penser par eux-mêmes. L'usage de
l'IA générative par les élèves va exactement dans le sens contraire : il les habitue à déléguer
la pensée, à se contenter d'une réponse toute faite, lisse, statistiquement probable. En
philosophie, une dissertation n'a de valeur que par le cheminement personnel qu'elle manifeste ;
une copie produite par une machine n'est rien. Je constate déjà que des élèves de terminale sont
incapables de formuler une objection à une thèse sans « demander à ChatGPT ». Je ne suis pas
technophobe, mais je refuse qu'on présente comme un progrès ce qui est en réalité un renoncement.
On nous parle d'« accompagner les usages » : c'est le vocabulaire de la résignation.
L'institution devrait au contraire affirmer clairement que certains apprentissages exigent
l'effort, le temps long et la solitude de l'écriture.
Qu'on apprenne aux élèves ce qu'est un modèle de langage, très bien : c'est un objet d'étude
légitime. Mais qu'on en fasse un outil ordinaire de la classe, non.
""",
    ),
    (
        NUA,
        D2,
        CPE,
        False,
        """
Je suis CPE en collège et mon angle est un peu différent de celui des collègues enseignants. Ce
qui m'inquiète le plus, ce n'est pas la triche, c'est l'usage de l'IA dans le harcèlement :
fausses images, montages, faux messages attribués à un camarade. Nous avons déjà eu deux
situations graves cette année, et nous étions démunis, y compris pour expliquer aux familles ce
qui s'était passé. Il faudrait intégrer ces questions dans l'éducation à la citoyenneté, dans le
CESC, et former les vies scolaires. Par ailleurs, l'IA pourrait nous être utile pour rédiger des
comptes rendus ou des courriers, mais avec quelle garantie sur les données ? Ce sont des
informations très sensibles sur des mineurs, et je ne les mettrai pas dans un outil dont je ne
sais pas où il stocke ce qu'on lui confie.
Enfin, je remarque que les familles sont souvent plus perdues que les élèves : une soirée
d'information sur l'IA, organisée avec les parents, serait sans doute plus utile que bien des
formations en ligne.
""",
    ),
    (
        RES,
        D2,
        CERT,
        False,
        """
Honnêtement, je crois que le débat est déjà tranché par les usages. Les élèves utilisent l'IA,
les parents aussi, une partie des collègues aussi, le plus souvent en cachette. Interdire n'a pas
de sens, encadrer supposerait des moyens qu'on n'aura pas. Donc on va faire comme d'habitude :
chacun va bricoler dans son coin, certains vont faire des choses formidables, d'autres vont
fermer les yeux, et dans cinq ans on publiera un rapport qui constatera des inégalités énormes
entre établissements. J'aimerais me tromper. Pour ma part, en histoire-géographie, j'ai supprimé
les devoirs maison notés et je fais davantage d'oral. Ce n'est pas une mauvaise chose en soi,
mais ça demande du temps, et le temps est justement ce qui nous manque le plus.
Je note aussi que ceux qui s'en sortent le mieux sont les élèves déjà favorisés, qui savent
utiliser l'outil pour approfondir plutôt que pour copier. Les autres copient, et les écarts se
creusent sans bruit.
""",
    ),
    (
        ENTH,
        D1,
        PE,
        False,
        """
En CM1-CM2, je n'utilise pas l'IA avec les élèves directement, mais elle est devenue mon
assistante de préparation. Je m'en sers pour écrire des textes de lecture sur mesure, avec le
vocabulaire que nous travaillons, pour inventer des problèmes de maths ancrés dans la vie du
village, pour préparer des dictées à plusieurs niveaux. J'ai aussi fait une séance sur « comment
une machine peut-elle écrire ? » : les élèves ont joué à prédire le mot suivant dans une phrase,
ils ont compris l'idée en vingt minutes et ont été très critiques ensuite face aux réponses de
l'IA. Je trouve que c'est une vraie occasion de faire une éducation au numérique intelligente dès
le primaire. Ce qui manque : une formation accessible aux professeurs des écoles, souvent oubliés
dans ces plans, et du matériel qui fonctionne dans nos petites écoles rurales.
Je précise que je n'entre jamais de prénom ni d'information sur mes élèves dans ces outils ; un
rappel officiel de cette règle toute simple rendrait service à beaucoup de collègues.
""",
    ),
    (
        INQ,
        D2,
        CERT,
        False,
        """
Professeur de technologie, je connais un peu le fonctionnement de ces outils et c'est justement
ce qui m'inquiète. La plupart des services grand public conservent les conversations et peuvent
s'en servir pour entraîner leurs modèles. Quand un collègue colle dans ChatGPT le compte rendu
d'une équipe éducative avec le nom de l'élève, son diagnostic et sa situation familiale, c'est
une fuite de données sensibles, ni plus ni moins. Et personne ne le lui a jamais dit. Avant de
promouvoir l'IA, l'institution devrait fournir des outils hébergés en France ou en Europe,
conformes au RGPD, idéalement des modèles ouverts qui tournent localement, et rappeler une règle
simple : aucune donnée personnelle d'élève dans un outil non validé. C'est faisable, certains
modèles tournent sur un simple ordinateur portable. Il manque surtout une volonté politique et
un accompagnement des DPO académiques.
Je serais d'ailleurs volontaire pour tester de tels outils dans mon collège si l'académie le
proposait.
""",
    ),
    (
        NUA,
        D2,
        AGR,
        False,
        """
En anglais, l'IA est à la fois une chance et un problème. Une chance, parce que mes élèves
peuvent s'entraîner à l'oral avec un partenaire conversationnel patient, disponible, qui corrige
sans juger ; les plus timides y trouvent un espace pour oser parler. Un problème, parce que la
traduction automatique a rendu quasiment impossible l'évaluation des productions écrites faites
à la maison : les textes sont parfaits, sans aucun rapport avec le niveau réel. J'ai donc changé
ma manière d'évaluer : davantage d'écrits en classe, des oraux, des travaux où l'on commente et
corrige une production de l'IA. Ça fonctionne plutôt bien. Les langues vivantes devraient être
un terrain d'expérimentation sérieux, avec un outil institutionnel et des comptes élèves
sécurisés, plutôt que de laisser chacun utiliser ce qu'il trouve.
J'ajoute un point souvent oublié : la prononciation. Les assistants vocaux actuels sont assez
bons pour que les élèves s'entraînent à la maison, ce qui était impensable il y a cinq ans. Encore
faut-il que tous les élèves y aient accès.
""",
    ),
    (
        HOS,
        D2,
        CERT,
        True,
        """
Je suis professeure de SVT et je passe une partie de l'année à enseigner le changement
climatique, la sobriété, la finitude des ressources. Comment expliquer à mes élèves qu'il faut
réduire notre empreinte carbone, puis les encourager à interroger des modèles qui consomment
d'énormes quantités d'électricité et d'eau pour générer un résumé de cours qu'ils pourraient
écrire eux-mêmes ? La question environnementale est totalement absente des discours sur l'IA à
l'école. On parle d'innovation, d'efficacité, de personnalisation, jamais de coût écologique. Je
ne suis pas opposée à tout usage : il peut y avoir des cas pertinents, pour l'inclusion par
exemple. Mais un usage massif et banalisé me semble incompatible avec l'éducation au
développement durable que nous sommes censés porter. Au minimum, que l'institution publie des
chiffres et qu'on apprenne aux élèves à se demander si une requête est vraiment nécessaire.
""",
    ),
    (
        NUA,
        D1,
        DIR,
        True,
        """
Directeur d'une école de huit classes sans décharge complète, je vois l'IA d'abord comme une aide
potentielle pour l'administratif : PPMS, comptes rendus de conseil d'école, réponses aux mails
des familles, dossiers de subvention. J'ai essayé et c'est réellement utile, à condition de tout
relire. Pour les élèves en revanche, mes collègues sont très partagés, et je les comprends. Les
plus jeunes ont besoin de manipuler, de parler, de jouer, et les conditions d'utilisation de la
plupart des outils interdisent de toute façon leur usage aux moins de 13 ans. Ce qui me pose
problème, c'est que nous n'avons reçu aucune consigne de la circonscription ni de l'académie.
Quand des parents me demandent ce que l'école pense de l'IA, je ne sais pas quoi répondre. Un
cadre national clair, décliné pour le premier degré, serait bienvenu.
Je trouve aussi qu'on demande beaucoup aux directeurs sans leur donner de temps : se former à
l'IA, accompagner l'équipe, informer les familles, tout cela s'ajoute au reste.
""",
    ),
    (
        HOS,
        D1,
        PE,
        False,
        """
On nous parle d'IA pour « personnaliser les apprentissages » alors qu'on supprime des postes
chaque année et que les classes débordent. Je n'ai aucun doute sur la suite : on nous expliquera
qu'avec un bon logiciel, un enseignant peut gérer trente élèves de niveaux différents, puis
trente-cinq. C'est déjà ce qui se passe avec les remplacements non assurés, compensés par des
« ressources en ligne ». L'IA devient l'alibi d'un désengagement de l'État. Je ne suis pas contre
la technologie, j'utilise l'ordinateur tous les jours, mais je refuse qu'elle serve à justifier
la dégradation de nos conditions de travail et des conditions d'apprentissage des élèves. Ce
questionnaire demande ce qu'on pense de l'IA ; moi, je voudrais qu'on me demande ce dont mes
élèves ont besoin. La réponse tient en deux mots : des adultes.
Pas un chatbot qui leur répond à toute heure, mais des adultes qui les connaissent, qui les
écoutent et qui ont le temps de s'occuper d'eux.
""",
    ),
    (
        ENTH,
        D2,
        PLP,
        False,
        """
J'enseigne l'économie-gestion et mes élèves de bac pro commerce vont travailler dans des
entreprises où l'IA est déjà partout : réponses aux clients, fiches produits, analyse des ventes.
Ne pas les former serait une faute. Cette année, nous avons travaillé la rédaction de requêtes,
la vérification des informations et la relecture critique des textes générés, et les élèves se
sont vraiment investis, y compris des décrocheurs qui ne faisaient plus rien. Ils ont aussi
compris les limites : l'outil invente des prix, des caractéristiques, des avis clients. C'est
exactement ce que je voulais leur montrer. Ce qui bloque : le réseau du lycée filtre la plupart
des services, les élèves doivent utiliser leur téléphone, et nous n'avons aucun outil validé. Il
faut un cadre, des outils et de la formation, mais surtout ne pas passer à côté.
Nous préparons pour l'an prochain un projet avec une entreprise partenaire, pour que les élèves
voient comment ces outils sont réellement utilisés en magasin et au service client.
""",
    ),
    (
        NUA,
        D2,
        CERT,
        False,
        """
En mathématiques, l'IA pose une question simple : qu'est-ce qu'on évalue vraiment ? Si un élève
peut photographier un exercice et obtenir la solution rédigée, alors les exercices d'application
faits à la maison ne mesurent plus rien. Ce n'est pas forcément un drame : ça nous oblige à
évaluer davantage le raisonnement, la capacité à expliquer une démarche à l'oral, à repérer une
erreur. J'ai commencé à donner des solutions fausses produites par une IA et à demander aux
élèves de trouver l'erreur ; c'est un exercice exigeant et formateur. En revanche, pour les
élèves fragiles, le risque est réel : ils recopient sans comprendre et découvrent le jour du
contrôle qu'ils ne savent rien faire. Il faudrait que les programmes et les examens évoluent en
conséquence, et vite, parce que les élèves, eux, n'ont pas attendu.
Je précise que je ne suis pas hostile à l'outil lui-même : utilisé en classe, sous mon regard,
il peut aider un élève bloqué à relancer sa réflexion. C'est l'usage solitaire et sans recul qui
pose problème.
""",
    ),
    (
        INQ,
        D1,
        PE,
        False,
        """
Enseignante en maternelle depuis quinze ans, je suis très inquiète de voir arriver l'IA dans les
discussions sur l'école. À trois, quatre ou cinq ans, un enfant apprend par le corps, par le
langage oral, par le jeu, par la relation avec l'adulte et avec les autres enfants. Rien de tout
cela ne passe par un écran. Je vois déjà des élèves de petite section qui savent faire défiler
des vidéos mais pas empiler des cubes ni tenir une conversation. Si l'IA peut m'aider à préparer
des albums ou des comptines, pourquoi pas, mais qu'on ne me demande pas de l'utiliser avec les
enfants. Je voudrais aussi qu'on accompagne les parents : beaucoup laissent leurs enfants parler
à des assistants vocaux ou à des applications soi-disant éducatives, sans savoir ce qu'il y a
derrière.
En formation, on nous parle beaucoup du collège et du lycée, très peu de la maternelle. J'aimerais
qu'on reconnaisse que, pour les tout-petits, la meilleure « innovation » reste un adulte
disponible et des conditions d'accueil correctes.
""",
    ),
    (
        FAV,
        D2,
        AGR,
        True,
        """
Je fais partie des enthousiastes, mais des enthousiastes lucides. J'ai construit avec mes élèves
de terminale un usage encadré : l'IA sert à réviser (elle pose des questions, l'élève répond,
elle corrige), à générer des contre-arguments pour préparer le grand oral, à reformuler une
notion mal comprise. Elle ne sert jamais à produire à la place de l'élève. Les résultats sont
encourageants, notamment pour les élèves qui n'ont personne à la maison pour les faire réviser.
Mais cela repose entièrement sur mon investissement personnel et sur des outils gratuits dont je
ne maîtrise pas la politique de données. Il faudrait un outil public, une formation reconnue et
du temps de concertation. Et surtout, arrêtons de présenter l'IA soit comme la fin de l'école,
soit comme son sauveur : c'est un outil puissant qui demande de la pédagogie.
Un exemple concret : avant le bac, mes élèves ont préparé leurs fiches eux-mêmes, puis ont
demandé à l'IA de les interroger dessus. Ceux qui l'ont fait régulièrement ont nettement
progressé.
""",
    ),
    (
        NUA,
        D2,
        CERT,
        False,
        """
bon alors je vais etre honnete, au debut j'etais franchement contre, je voyais mes eleves rendre
des trucs ecrits par chatgpt et ca m'enervait. Puis une collegue m'a montre comment elle s'en
servait pour faire des exos differencies et j'ai essaye. c'est vrai que ca aide pour preparer,
surtout quand on a 5 niveaux differents comme moi en techno. mais pour les eleves je reste tres
mitigé, ils ne lisent meme pas ce que l'ia leur donne, ils copient. et nous on a eu aucune
formation, rien, zero. donc pour resumer : pratique pour nous, dangereux pour eux si on ne leur
apprend pas, et l'institution absente comme d'hab
sinon pour les evals je fais tout sur table maintenant, au moins je sais ce qu'ils savent faire.
voila
""",
    ),
    (
        HOS,
        D2,
        CERT,
        False,
        """
Je suis professeur de français en collège et je vais être franc : l'IA est en train de détruire
ce que nous essayons de construire. Pendant des années, on a appris aux élèves à écrire un récit,
à argumenter, à se relire. Aujourd'hui, une partie d'entre eux ne voit plus l'intérêt : la
machine le fait mieux et plus vite. Les plus fragiles sont les plus touchés, car ce sont eux qui
ont le plus besoin de s'entraîner. Je ne vois pas comment on pourrait « accompagner » ça sans
moyens, sans temps, et avec des classes de 29. Et qu'on ne me parle pas de formation en ligne :
ce n'est pas une question de compétences numériques, c'est une question de sens de notre métier.
Je lis partout qu'il faut « faire avec ». Mais personne ne nous dit comment faire écrire un élève
de quatrième qui sait qu'une machine peut le faire à sa place en dix secondes.
""",
    ),
    (
        FAV,
        D2,
        CONTR,
        False,
        """
Je suis professeur contractuel depuis septembre, sans formation initiale, et honnêtement l'IA
m'a sauvé la mise plus d'une fois. Quand on arrive en poste la veille de la rentrée avec cinq
niveaux et aucun collègue de la discipline dans l'établissement, avoir un outil qui propose une
progression, des exercices et des idées d'activités, c'est précieux. Je sais que tout n'est pas
juste et je vérifie, mais ça me donne une base. Je vois bien aussi les dérives chez les élèves :
certains me rendent des exercices résolus en deux minutes sans la moindre trace de recherche, et
je n'ai pas l'autorité d'un titulaire pour imposer des règles. Ce que je demande, c'est un
accompagnement pour les contractuels, qui sont de plus en plus nombreux, et des outils officiels
qu'on puisse utiliser sans se demander si on en a le droit. L'IA ne remplace pas une formation,
mais en attendant, elle comble un vide que l'institution a laissé.
""",
    ),
    (
        INQ,
        D1,
        PE,
        False,
        """
J'enseigne dans une classe unique en zone rurale, de la grande section au CM2. L'IA pourrait
m'aider à préparer des activités pour chaque niveau, et je l'utilise parfois pour ça, mais ce qui
me préoccupe surtout, c'est le décalage entre les familles. Certains parents, très à l'aise,
installent des applications « intelligentes » à leurs enfants dès la maternelle ; d'autres n'ont
même pas d'ordinateur, et la connexion au village est mauvaise. Si l'école pousse l'IA sans
réfléchir, elle creusera encore les écarts au lieu de les réduire. Je pense aussi à la protection
des enfants : quelles données ces outils collectent-ils sur des mineurs de 8 ans ? Qui contrôle ?
Avant de généraliser quoi que ce soit, il faudrait des outils publics, gratuits, sans collecte de
données, et une réflexion propre au premier degré, qui n'est pas un petit collège. Et il faudrait
surtout nous laisser le temps d'en parler entre collègues, ce que nous n'avons jamais.
""",
    ),
    (
        RES,
        D2,
        CERT,
        True,
        """
Je vais répondre franchement, même si je doute que cela serve à quelque chose. Depuis vingt-cinq
ans, j'ai vu passer le plan informatique, les TICE, les tableaux blancs interactifs, les
tablettes, les ENT, l'école numérique, et maintenant l'IA. À chaque fois, le même scénario : un
discours enthousiaste, du matériel livré sans formation, quelques collègues passionnés qui portent
tout, puis l'oubli. Les TBI de mon lycée servent aujourd'hui d'écrans de projection. Je ne dis
pas que l'IA est une mode comme les autres : les élèves s'en servent massivement, ça change
réellement leur rapport au travail, et c'est précisément pour ça qu'il faudrait une politique
sérieuse et durable, pas un énième plan de communication. Une politique sérieuse, ce serait du
temps de formation sur le temps de service, des outils publics pérennes, des programmes et des
examens repensés, et une évaluation honnête de ce qui marche. Je n'y crois pas beaucoup, mais je
serais ravi d'avoir tort.
""",
    ),
    (
        FAV,
        D2,
        CERT,
        False,
        """
J'enseigne le français en UPE2A, auprès d'élèves allophones arrivés en France depuis moins d'un
an. Pour eux, les outils de traduction et de reformulation sont une aide réelle : un élève
ukrainien ou afghan peut comprendre une consigne, vérifier un mot, écrire quelques phrases et les
comparer à une version corrigée. J'ai vu des élèves reprendre confiance grâce à ça. En même
temps, le risque est qu'ils ne fassent plus l'effort de passer par le français, et je dois
constamment rappeler que l'outil est une béquille, pas une solution. J'utilise aussi l'IA pour
produire des textes simplifiés sur les sujets du programme, afin qu'ils suivent un peu les cours
en classe ordinaire. Ce qui me manque : des outils validés, utilisables sans compte personnel
(mes élèves n'ont souvent pas d'adresse mail), et la reconnaissance que pour ces publics, l'IA
peut faire partie des aménagements. Les collègues de classe ordinaire auraient aussi besoin
d'être formés à ces usages.
""",
    ),
    (
        NUA,
        D2,
        None,
        False,
        """
Trois remarques.

D'abord, l'IA peut réellement aider les enseignants à préparer et à différencier, et il serait
absurde de s'en priver.

Ensuite, les élèves l'utilisent déjà massivement, souvent pour tricher, parce que personne ne
leur a appris à faire autrement. C'est à l'école de le faire.

Enfin, rien ne se fera sans formation, sans cadre clair et sans outils respectueux des données
des élèves. Pour l'instant, nous n'avons rien de tout ça.
""",
    ),
]

# Short needs for q_besoins, by kind; composed one to three at a time.
NEEDS = {
    "formation": [
        "Une formation",
        "Une vraie formation",
        "Une formation sérieuse",
        "Des formations concrètes",
        "Une formation dans ma discipline",
        "Une formation sur le temps de service",
        "Des tutoriels simples",
        "Un accompagnement",
        "Une formation pratique",
    ],
    "temps": [
        "Du temps",
        "Du temps pour expérimenter",
        "Du temps de concertation avec les collègues",
        "Du TEMPS",
        "Juste du temps",
        "Des heures dédiées",
    ],
    "materiel": [
        "Du matériel",
        "Des ordinateurs qui fonctionnent",
        "Un vidéoprojecteur qui marche",
        "Une connexion internet correcte",
        "Des tablettes pour les élèves",
        "Du wifi dans les salles",
        "Un ordinateur portable fourni par l'employeur",
    ],
    "cadre": [
        "Un cadre clair",
        "Une charte",
        "Des consignes officielles",
        "Savoir ce qui est autorisé",
        "Un cadre juridique clair",
        "Des règles pour les examens",
    ],
    "outils": [
        "Un outil validé par le ministère",
        "Un outil gratuit et souverain",
        "Des outils conformes au RGPD",
        "Un accès institutionnel à Mistral",
        "Un outil intégré à l'ENT",
        "Un abonnement payé par l'institution",
    ],
    "autre": [
        "Des exemples d'usages dans ma discipline",
        "Des échanges avec des collègues",
        "Un référent dans l'établissement",
        "Des ressources prêtes à l'emploi",
        "Des retours d'expérience d'autres établissements",
    ],
}
NEED_WEIGHTS = {"formation": 34, "temps": 20, "materiel": 16, "cadre": 14, "outils": 10, "autre": 8}
REFUSALS = [
    "Rien, je ne compte pas l'utiliser.",
    "De rien.",
    "Je n'en ai pas besoin.",
    "D'autre chose que l'IA : des moyens humains.",
    "Rien du tout",
    "Aucun besoin.",
]

TYPOS = [
    ("c'est", "cest"),
    ("ça", "ca"),
    ("Ça", "Ca"),
    ("très", "tres"),
    ("beaucoup", "bcp"),
    ("élèves", "eleves"),
    ("être", "etre"),
    ("professeurs", "profs"),
    ("on n'a ", "on a "),
    ("il y a", "y a"),
    ("même", "meme"),
    ("déjà", "deja"),
    ("ce n'est pas", "c'est pas"),
    ("Ce n'est pas", "C'est pas"),
    ("ne sert à rien", "sert à rien"),
    (" ?", "?"),
    (" :", ":"),
    ("peut-être", "peut etre"),
    ("quand même", "qd meme"),
    ("à la", "a la"),
]
PROPER_START = ("ChatGPT", "Montaigne", "Freinet", "Pronote", "Mistral", "Pix", "Albert")


# --------------------------------------------------------------------------------------------
# Parsing and composition
# --------------------------------------------------------------------------------------------
@dataclass
class Sentence:
    """A pool sentence with the constraints it puts on its writer."""

    theme: str
    stance: str
    degre: str | None
    gender: str | None
    text: str


def _parse_pool() -> list[Sentence]:
    pool: list[Sentence] = []
    for theme, block in THEMES.items():
        lines: list[str] = []
        for raw in block.strip("\n").splitlines():
            if raw.startswith("    "):
                lines[-1] += " " + raw.strip()
            else:
                lines.append(raw)
        for line in lines:
            match = re.fullmatch(r"([+\-0])([12]?)([fm]?)\|(.+)", line)
            if match is None:
                raise ValueError(f"bad pool line in {theme}: {line!r}")
            stance, deg, gender, text = match.groups()
            pool.append(Sentence(theme, stance, {"1": D1, "2": D2}.get(deg), gender or None, text))
    return pool


def _parse_short() -> list[Spec]:
    specs = []
    for line in SHORT.strip().splitlines():
        tone, deg, text = line.split("|", 2)
        specs.append(Spec(text, TONE_CODES[tone], "court", {"1": D1, "2": D2}.get(deg)))
    return specs


def _lower_first(text: str) -> str:
    first = re.split(r"[\s',]", text, maxsplit=1)[0]
    if text.startswith(PROPER_START) or any(c.isupper() for c in first[1:]):
        return text
    return text[0].lower() + text[1:]


def _pick_least_used(rng: random.Random, items: list[str], usage: Counter, cap: int) -> str | None:
    fresh = [s for s in items if usage[s] < cap]
    if not fresh:
        return None
    low = min(usage[s] for s in fresh)
    choice = rng.choice([s for s in fresh if usage[s] == low])
    usage[choice] += 1
    return choice


def _frame(rng: random.Random, text: str) -> str:
    """Prefix an opinion marker, eliding « que » before a vowel as French requires."""
    framings = OPINION if text.startswith(SUBJECT_START) else OPINION[:5]
    framing = rng.choice(framings)
    body = _lower_first(text)
    if framing.endswith("que ") and body[0] in "aeiouéèêàâîôûy":
        return framing[:-2] + "'" + body
    return framing + body


def _affinity(theme: str, chosen: list[Sentence]) -> float:
    if not chosen:
        return 1.0
    if any(c.theme == theme for c in chosen):
        return 1.2
    if any(theme in RELATED[c.theme] for c in chosen):
        return 3.0
    return 0.4


def _compose(
    rng: random.Random, tone: str, degre: str, gender: str, pool: list[Sentence], usage: Counter
) -> str:
    """Build one medium answer from pool sentences following a stance plan for ``tone``."""
    plan = rng.choice(PLANS[tone])
    chosen: list[Sentence] = []
    for stance in plan:
        candidates = [
            s
            for s in pool
            if s.stance == stance
            and s.degre in (None, degre)
            and s.gender in (None, gender)
            and s not in chosen
            and usage[s.text] < 2
            and not (SPECIFIC.search(s.text) and any(SPECIFIC.search(c.text) for c in chosen))
        ]
        if not candidates:
            continue
        themes = sorted({s.theme for s in candidates}, key=list(THEME_WEIGHTS).index)
        weights = [THEME_WEIGHTS[t] * _affinity(t, chosen) for t in themes]
        theme = rng.choices(themes, weights)[0]
        in_theme = [s for s in candidates if s.theme == theme]
        low = min(usage[s.text] for s in in_theme)
        pick = rng.choice([s for s in in_theme if usage[s.text] == low])
        usage[pick.text] += 1
        chosen.append(pick)

    parts: list[str] = []
    group = OPENER_GROUP[tone]
    if tone == RES or rng.random() < 0.35:
        opener = _pick_least_used(rng, OPENERS[group], usage, cap=3)
        if opener:
            parts.append(opener)
    previous = None
    for sentence in chosen:
        text = sentence.text
        if (
            previous is None
            and not parts
            and rng.random() < 0.2
            and not FIRST_PERSON.search(text)
            and not text.endswith(("?", "!"))
        ):
            text = _frame(rng, text)
        if previous is not None:
            polar = {previous.stance, sentence.stance} == {"+", "-"}
            if polar and rng.random() < 0.75:
                text = f"{rng.choice(CONTRAST)} {_lower_first(text)}"
            elif not polar and sentence.stance != "0" and rng.random() < 0.25:
                text = f"{rng.choice(ADDITION)} {_lower_first(text)}"
        parts.append(text)
        previous = sentence
    if rng.random() < 0.18:
        closer = _pick_least_used(rng, CLOSERS[group], usage, cap=3)
        if closer:
            parts.append(closer)
    return ("\n" if rng.random() < 0.06 else " ").join(parts)


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    kept = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", kept)


def _roughen(rng: random.Random, text: str) -> str:
    """Make a composed answer look typed in a hurry, the way some respondents write."""
    roll = rng.random()
    if roll < 0.06:
        text = _strip_accents(text)
        text = text[0].lower() + text[1:]
    elif roll < 0.15:
        options = [pair for pair in TYPOS if pair[0] in text]
        for old, new in rng.sample(options, min(len(options), rng.randint(1, 2))):
            text = text.replace(old, new, 1)
    elif roll < 0.21:
        text = _lower_first(text).rstrip(".")
    return text


# --------------------------------------------------------------------------------------------
# Respondents
# --------------------------------------------------------------------------------------------
RESSENTI_RANGES = {
    ENTH: (8, 10),
    FAV: (6, 8),
    NUA: (4, 7),
    INQ: (2, 5),
    HOS: (0, 3),
    RES: (2, 5),
    IRO: (1, 4),
    HS: (2, 6),
    VIDE: (2, 8),
    TRIV: (3, 7),
}
FORMATION_WEIGHTS = {
    ENTH: (35, 45, 20),
    FAV: (25, 45, 30),
    NUA: (12, 38, 50),
    INQ: (8, 32, 60),
    HOS: (5, 20, 75),
}


def _ressenti(rng: random.Random, tone: str) -> int:
    # A few respondents read the scale backwards or answer at random, as in any survey.
    if rng.random() < 0.03:
        return rng.randint(0, 10)
    low, high = RESSENTI_RANGES[tone]
    return rng.randint(low, high)


TEACHING = re.compile(r"(?i)\b(cours|classe|prépar|copies|évaluer|mes élèves|enseign)")


def _fonction(rng: random.Random, degre: str | None, teaching_only: bool) -> str:
    if degre is None:
        degre = D1 if rng.random() < 0.42 else D2
    if degre == D1:
        return rng.choices([PE, DIR], [88, 12])[0]
    roles = [CERT, AGR, PLP, CONTR] + ([] if teaching_only else [CPE, DOC])
    weights = [55, 12, 14, 7] + ([] if teaching_only else [7, 7])
    return rng.choices(roles, weights)[0]


def _besoins(rng: random.Random, tone: str) -> str:
    blank = {VIDE: 0.85, TRIV: 0.7, HOS: 0.4, HS: 0.55}.get(tone, 0.3)
    if rng.random() < blank:
        return ""
    if tone in (HOS, IRO) and rng.random() < 0.4:
        return rng.choice(REFUSALS)
    kinds = list(NEED_WEIGHTS)
    picked: list[str] = []
    for _ in range(rng.choices([1, 2, 3], [55, 35, 10])[0]):
        kind = rng.choices(kinds, [NEED_WEIGHTS[k] for k in kinds])[0]
        kinds.remove(kind)  # one item per kind: « une formation et une vraie formation » is odd
        picked.append(rng.choice(NEEDS[kind]))
    style = rng.random()
    if len(picked) > 1 and style < 0.15:
        return "- " + "\n- ".join(picked)
    items = [picked[0]] + [_lower_first(p) for p in picked[1:]]
    if len(items) > 1 and style < 0.3:
        return " + ".join(items)
    text = items[0] if len(items) == 1 else ", ".join(items[:-1]) + " et " + items[-1]
    return text + rng.choice([".", ""])


def _timestamps(rng: random.Random, n: int) -> list[str]:
    # Sent on Monday 3 March, reminder on Monday 17 March, closed on Friday 28 March.
    days = [date(2025, 3, d) for d in range(3, 29)]
    weights = []
    for day in days:
        w = 10 * 0.8 ** (day.day - 3) + (6 * 0.7 ** (day.day - 17) if day.day >= 17 else 0) + 1.5
        weights.append(w * (0.45 if day.weekday() >= 5 else 1.0))
    hours = list(range(7, 24))
    hour_weights = [1, 2, 2, 3, 3, 6, 6, 3, 3, 4, 6, 6, 5, 7, 8, 6, 3]
    stamps = []
    for _ in range(n):
        day = rng.choices(days, weights)[0]
        moment = time(rng.choices(hours, hour_weights)[0], rng.randrange(60))
        stamps.append(datetime.combine(day, moment))
    return [s.strftime("%Y-%m-%d %H:%M") for s in sorted(stamps)]


def build_rows(seed: int = SEED, n: int = N_RESPONDENTS) -> tuple[list[dict], list[Spec]]:
    """Return the CSV rows (in export order) and the answer spec behind each row."""
    rng = random.Random(seed)
    specs: list[Spec] = list(PII_ANSWERS) + list(SPECIAL) + _parse_short()
    for tone, degre, fonction, curly, text in LONG:
        body = _prose(text)
        specs.append(Spec(_word_processor(body) if curly else body, tone, "long", degre, fonction))
    specs += [Spec(t, TRIV, "trivial") for t in TRIVIAL]
    n_blank = round(n * BLANK_SHARE)
    specs += [Spec("", VIDE, "vide") for _ in range(n_blank)]

    pool, usage = _parse_pool(), Counter()
    tones = list(COMPOSED_TONES)
    for _ in range(n - len(specs)):
        tone = rng.choices(tones, [COMPOSED_TONES[t] for t in tones])[0]
        degre = D1 if rng.random() < 0.4 else D2
        gender = "f" if rng.random() < 0.7 else "m"
        text = _roughen(rng, _compose(rng, tone, degre, gender, pool, usage))
        specs.append(Spec(text, tone, "compose", degre))
    rng.shuffle(specs)

    quotas = dict(ACADEMIE_QUOTAS)
    quotas["Versailles"] = n - sum(quotas.values())
    for spec in specs:
        if spec.academie:
            quotas[spec.academie] -= 1
    remaining = [a for a, k in quotas.items() for _ in range(k)]
    rng.shuffle(remaining)

    rows = []
    for spec, stamp in zip(specs, _timestamps(rng, len(specs)), strict=True):
        # CPE and documentalistes only get answers that do not speak of their own lessons.
        teaching_only = spec.kind in ("compose", "long", "liste", "sms") or bool(
            TEACHING.search(spec.text)
        )
        fonction = spec.fonction or _fonction(rng, spec.degre, teaching_only)
        academie = spec.academie or remaining.pop()
        forme = rng.choices(
            ["Oui", "En partie", "Non"], FORMATION_WEIGHTS.get(spec.tone, (10, 30, 60))
        )[0]
        rows.append(
            {
                "id_reponse": f"R{len(rows) + 1:04d}",
                "date_soumission": stamp,
                "degre": FONCTION_DEGRE[fonction],
                "academie": academie,
                "fonction": fonction,
                "forme_ia": forme,
                "ressenti": _ressenti(rng, spec.tone),
                "q_usage_ia": spec.text,
                "q_besoins": _besoins(rng, spec.tone),
            }
        )
    return rows, specs


# --------------------------------------------------------------------------------------------
# The campaign (issue 14): a union text pasted by 20 respondents after the main collection,
# with the variants copies have (typos, a sentence added or removed, a signature, another
# order). Appended after the 330 rows, which stay as they were; written by the team.
# --------------------------------------------------------------------------------------------
CAMPAIGN_1 = ("Nous, enseignants syndiqués, refusons que l'intelligence artificielle serve de prétexte "
      "à supprimer des postes ou à alourdir notre charge de travail.")
CAMPAIGN_2 = ("Avant tout déploiement dans les établissements, nous demandons une formation sur le temps "
      "de service, un cadre national clair sur la protection des données des élèves et des "
      "personnels, et l'assurance qu'aucun outil ne sera imposé sans concertation des équipes.")
CAMPAIGN_3 = "L'IA ne remplacera jamais la relation pédagogique entre un professeur et ses élèves."
CAMPAIGN_BASE = f"{CAMPAIGN_1} {CAMPAIGN_2} {CAMPAIGN_3}"

CAMPAIGN_TEXTS = [
    CAMPAIGN_BASE,
    CAMPAIGN_BASE,
    CAMPAIGN_BASE + "\nSigné : une enseignante syndiquée de l'école élémentaire.",
    CAMPAIGN_BASE.replace("intelligence artificielle", "intelligance artificielle").replace("établissements", "établissemnts"),
    f"{CAMPAIGN_1} {CAMPAIGN_2}",
    "Je reprends ici le texte de ma section syndicale, que je partage entièrement. " + CAMPAIGN_BASE,
    CAMPAIGN_BASE.replace("Nous, enseignants syndiqués, refusons", "En tant qu'enseignants syndiqués, nous refusons"),
    f"{CAMPAIGN_1}\n{CAMPAIGN_2}\n{CAMPAIGN_3}",
    CAMPAIGN_BASE + " Merci de nous écouter enfin.",
    CAMPAIGN_BASE.replace("concertation des équipes", "concertation réelle des équipes pédagogiques"),
    f"{CAMPAIGN_2} {CAMPAIGN_3}" .replace("Avant tout déploiement", "Nous refusons que l'IA serve à supprimer des postes. Avant tout déploiement"),
    CAMPAIGN_BASE.lower(),
    CAMPAIGN_BASE.replace("l'assurance", "la garantie").replace("jamais", "en aucun cas"),
    CAMPAIGN_BASE + "\nUn professeur de lycée professionnel syndiqué.",
    CAMPAIGN_BASE.replace(", et l'assurance", ". Nous voulons aussi l'assurance"),
    CAMPAIGN_BASE.replace("élèves", "eleves"),
    "Texte de l'intersyndicale : " + CAMPAIGN_BASE,
    f"{CAMPAIGN_1} {CAMPAIGN_3} {CAMPAIGN_2}",
    CAMPAIGN_BASE.replace("charge de travail", "charge de travail déjà très lourde"),
    CAMPAIGN_BASE + " Cordialement.",
]
# (degre, academie, fonction, forme_ia, ressenti, q_besoins)
CAMPAIGN_META = [
    ("1er degré", "Lille", "Professeur des écoles", "Non", 3, "Une formation sur le temps de service."),
    ("2nd degré", "Créteil", "Professeur certifié", "Non", 2, ""),
    ("1er degré", "Lille", "Professeur des écoles", "Non", 3, "Du temps et une formation."),
    ("2nd degré", "Lyon", "Professeur certifié", "En partie", 4, ""),
    ("1er degré", "Versailles", "Directeur d'école", "Non", 3, "Un cadre national clair."),
    ("2nd degré", "Lille", "Professeur de lycée professionnel", "Non", 2, "Une formation sur le temps de service."),
    ("2nd degré", "Créteil", "Professeur agrégé", "Non", 4, ""),
    ("1er degré", "Amiens", "Professeur des écoles", "En partie", 3, ""),
    ("2nd degré", "Versailles", "Professeur certifié", "Non", 1, "Être consultés."),
    ("2nd degré", "Lille", "CPE", "Non", 3, ""),
    ("1er degré", "Créteil", "Professeur des écoles", "Non", 2, "Une formation sur le temps de service."),
    ("2nd degré", "Nancy-Metz", "Professeur certifié", "Non", 3, ""),
    ("2nd degré", "Lyon", "Professeur certifié", "En partie", 4, "Des moyens humains."),
    ("2nd degré", "Lille", "Professeur de lycée professionnel", "Non", 2, ""),
    ("1er degré", "Normandie", "Professeur des écoles", "Non", 3, ""),
    ("2nd degré", "Créteil", "Professeur certifié", "Non", 3, "Un cadre national clair."),
    ("1er degré", "Lille", "Professeur des écoles", "Non", 2, ""),
    ("2nd degré", "Versailles", "Professeur contractuel", "Non", 4, ""),
    ("2nd degré", "Aix-Marseille", "Professeur certifié", "En partie", 3, "Du temps."),
    ("1er degré", "Lille", "Directeur d'école", "Non", 2, ""),
]
CAMPAIGN_DAYS = ["2025-03-29", "2025-03-29", "2025-03-29", "2025-03-29", "2025-03-29", "2025-03-30", "2025-03-30",
        "2025-03-30", "2025-03-30", "2025-03-30", "2025-03-30", "2025-03-30", "2025-03-31", "2025-03-31",
        "2025-03-31", "2025-03-31", "2025-03-31", "2025-03-31", "2025-03-31", "2025-03-31"]
CAMPAIGN_TIMES = ["08:12", "09:47", "12:05", "18:31", "21:14", "07:58", "10:22", "11:40", "16:03", "19:55", "20:17",
         "22:41", "06:49", "08:30", "12:16", "13:02", "17:45", "18:58", "21:09", "23:27"]


def add_campaign(rows: list[dict], specs: list[Spec]) -> tuple[list[dict], list[Spec]]:
    """The campaign's rows and specs after the others (R0331 to R0350)."""
    rows, specs = list(rows), list(specs)
    for text, (degre, academie, fonction, forme, ressenti, besoins), day, moment in zip(
            CAMPAIGN_TEXTS, CAMPAIGN_META, CAMPAIGN_DAYS, CAMPAIGN_TIMES, strict=True):
        specs.append(Spec(text, HOS, "campagne", degre, fonction, academie))
        rows.append({"id_reponse": f"R{len(rows) + 1:04d}", "date_soumission": f"{day} {moment}",
                     "degre": degre, "academie": academie, "fonction": fonction,
                     "forme_ia": forme, "ressenti": ressenti, "q_usage_ia": text,
                     "q_besoins": besoins})
    return rows, specs


# --------------------------------------------------------------------------------------------
# Checks and output
# --------------------------------------------------------------------------------------------
def _sentences(text: str) -> list[str]:
    parts = re.split(r"(?<=[.!?…])\s+|\n+", text)
    return [" ".join(p.lower().split()) for p in parts if len(p.split()) >= 3]


def check(rows: list[dict], specs: list[Spec]) -> dict:
    """Fail loudly if an edit broke what the demo promises; return the summary numbers."""
    ids = [r["id_reponse"] for r in rows]
    answers = [r["q_usage_ia"] for r in rows]
    filled = [a for a in answers if a]
    words = [len(a.split()) for a in filled]
    reuse = Counter(
        s for spec in specs if spec.kind not in ("trivial", "campagne")
        for s in set(_sentences(spec.text))
    )
    problems = []
    if len(rows) < 320:
        problems.append(f"only {len(rows)} rows")
    if len(set(ids)) != len(ids):
        problems.append("duplicate ids")
    if not 0.07 <= 1 - len(filled) / len(rows) <= 0.09:
        problems.append("blank share out of 7-9 %")
    if not 35 <= sum(words) / len(words) <= 45:
        problems.append(f"mean length {sum(words) / len(words):.1f} words")
    overused = [s for s, k in reuse.items() if k > 3]
    if overused:
        problems.append(f"sentences in more than 3 answers: {overused[:3]}")
    for spec in specs:
        for _, value in spec.pii:
            if value not in spec.text:
                problems.append(f"PII value {value!r} missing from its answer")
    if any(r["degre"] != FONCTION_DEGRE[r["fonction"]] for r in rows):
        problems.append("degre does not match fonction")
    if problems:
        raise SystemExit("make_demo: " + "; ".join(problems))
    return {
        "rows": len(rows),
        "blank": len(rows) - len(filled),
        "mean_words": sum(words) / len(words),
        "max_sentence_reuse": max(reuse.values()),
    }


def write_csv(rows: list[dict], path: Path) -> None:
    """Write the export as LimeSurvey does: UTF-8 with BOM, ``;``, CRLF, minimal quoting."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, delimiter=";", lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(rows)


def pii_table(rows: list[dict], specs: list[Spec]) -> str:
    """Markdown tables of the planted personal data and decoys, for data/raw/README.md."""
    lines = ["| id_reponse | kind | value |", "|---|---|---|"]
    for row, spec in zip(rows, specs, strict=True):
        for kind, value in spec.pii:
            lines.append(f"| {row['id_reponse']} | {kind} | {value} |")
    lines += ["", "| decoy (not personal data) | id_reponse |", "|---|---|"]
    # A decoy inside a planted school name (« école Jules Ferry de Rezé ») is personal data
    # there, so the table only lists the answers where it stands on its own.
    outside_pii = []
    for row, spec in zip(rows, specs, strict=True):
        text = row["q_usage_ia"]
        for _, value in spec.pii:
            text = text.replace(value, " ")
        outside_pii.append((row["id_reponse"], text))
    for decoy in DECOYS:
        pattern = re.compile(rf"(?<!\w){re.escape(decoy)}(?!\w)")
        hits = [rid for rid, text in outside_pii if pattern.search(text)]
        lines.append(f"| {decoy} | {', '.join(hits)} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument(
        "--pii-table",
        action="store_true",
        help="print the README tables of planted personal data and decoys",
    )
    args = parser.parse_args(argv)
    rows, specs = add_campaign(*build_rows())
    summary = check(rows, specs)
    write_csv(rows, args.output)
    print(
        f"{args.output}: {summary['rows']} réponses, {summary['blank']} vides, "
        f"{summary['mean_words']:.1f} mots en moyenne (réponses non vides), "
        f"phrase la plus reprise : {summary['max_sentence_reuse']} réponses"
    )
    if args.pii_table:
        print(pii_table(rows, specs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
